// Reconnect delays: exponential with full jitter (a random delay between the floor and a cap that
// doubles with each failed attempt), so a relay that restarts is not hit by every bridge at once.
// A connection that stayed up for `stableMs` resets the count.

export interface Backoff {
  /** The delay before the next attempt, in ms; counts the attempt. */
  next(): number
  connected(): void
  disconnected(): void
  readonly attempts: number
}

export function createBackoff(opts: { minMs: number; maxMs: number; stableMs: number; random?: () => number; now?: () => number }): Backoff {
  const random = opts.random ?? Math.random
  const now = opts.now ?? Date.now
  let attempts = 0
  let upSince = 0
  return {
    next() {
      const cap = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempts, 30))
      attempts++
      return Math.round(opts.minMs + random() * Math.max(0, cap - opts.minMs))
    },
    connected() {
      upSince = now()
    },
    disconnected() {
      if (upSince !== 0 && now() - upSince >= opts.stableMs) attempts = 0
      upSince = 0
    },
    get attempts() {
      return attempts
    },
  }
}
