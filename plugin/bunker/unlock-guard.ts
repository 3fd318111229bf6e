// Bounds passphrase guessing per key: at most `maxFailures` failed unlock_key attempts per minute,
// attempts still running counted as failures until they succeed. A key over its bound is refused
// before any scrypt work. One entry per stored key name at most, dropped once it is clean.

export interface UnlockGuard {
  /** Counts an attempt in; undefined when it may run, else the seconds until one may. */
  begin(key: string, now: number): number | undefined
  /**
   * Settles an attempt begun: a success clears the key's record, a failure stays a minute, and an
   * attempt that never reached scrypt (the pool was full) leaves no trace.
   */
  end(key: string, outcome: 'ok' | 'failed' | 'not-tried', now: number): void
}

const WINDOW_MS = 60_000

interface Attempts {
  running: number
  /** times of recent failures, oldest first */
  failed: number[]
}

export function createUnlockGuard(maxFailures: number): UnlockGuard {
  const byKey = new Map<string, Attempts>()

  const prune = (a: Attempts, now: number) => {
    while (a.failed.length > 0 && a.failed[0] <= now - WINDOW_MS) a.failed.shift()
  }

  return {
    begin(key, now) {
      let a = byKey.get(key)
      if (!a) byKey.set(key, (a = { running: 0, failed: [] }))
      prune(a, now)
      if (a.running + a.failed.length >= maxFailures) {
        const until = a.failed.length > 0 ? a.failed[0] + WINDOW_MS : now + WINDOW_MS
        return Math.max(1, Math.ceil((until - now) / 1000))
      }
      a.running++
      return undefined
    },
    end(key, outcome, now) {
      const a = byKey.get(key)
      if (!a) return
      a.running--
      if (outcome === 'ok') a.failed.length = 0
      if (outcome === 'failed') a.failed.push(now)
      prune(a, now)
      if (a.running === 0 && a.failed.length === 0) byKey.delete(key)
    },
  }
}
