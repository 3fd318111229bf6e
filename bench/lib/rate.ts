// Paced load: calls `fn` at an average rate until the run stops, never more than `maxInFlight` at
// once (a call over that is skipped and counted: a stalled relay must not make the client hoard).
import type { Control } from './soak-child.ts'

const TICK_MS = 50

export interface Paced {
  /** Resolves when the run has stopped and the calls still in flight have settled (or `drainMs` passed). */
  done: Promise<void>
  inFlight(): number
}

export function atRate(ctl: Control, perSecond: number, fn: () => unknown, opts: { maxInFlight?: number; onSkip?: () => void; drainMs?: number } = {}): Paced {
  const max = opts.maxInFlight ?? 1000
  let inFlight = 0
  const loop = async () => {
    let credit = 0
    let last = performance.now()
    while (!ctl.stopped() && perSecond > 0) {
      const now = performance.now()
      // a late tick catches up, but by at most a second's worth: no burst after a stall
      credit = Math.min(credit + ((now - last) / 1000) * perSecond, Math.max(1, perSecond))
      last = now
      for (; credit >= 1; credit--) {
        if (inFlight >= max) {
          opts.onSkip?.()
          continue
        }
        inFlight++
        Promise.resolve()
          .then(fn)
          .catch(() => {})
          .finally(() => inFlight--)
      }
      await ctl.sleep(TICK_MS)
    }
    const until = Date.now() + (opts.drainMs ?? 5000)
    while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  }
  return { done: loop(), inFlight: () => inFlight }
}
