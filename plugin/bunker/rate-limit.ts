// A token bucket per client pubkey: a burst of `perMinute` requests, refilled evenly over a minute.
// Buckets live in two generations that rotate every minute: a bucket not touched for a whole
// generation has refilled, so the old generation is dropped whole, never walked entry by entry.
// The map then holds only clients active in the last two minutes; the caller creates buckets only
// for requests it has room to remember, which bounds it.

export interface RateLimit {
  /** Takes one request from the client's bucket; false when it is empty. */
  take(client: string, nowMs: number): boolean
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

const GENERATION_MS = 60_000

export function createRateLimit(perMinute: number, nowMs: number): RateLimit {
  let current = new Map<string, Bucket>()
  let previous = new Map<string, Bucket>()
  const perMs = perMinute / 60_000
  let rotateAt = nowMs + GENERATION_MS

  function find(client: string): Bucket | undefined {
    const b = current.get(client)
    if (b) return b
    const old = previous.get(client)
    if (old) {
      previous.delete(client)
      current.set(client, old)
    }
    return old
  }

  return {
    take(client, nowMs) {
      if (perMinute <= 0) return true
      if (nowMs >= rotateAt) {
        // a bucket untouched for a whole generation (60 s) is full again: forgetting it loses nothing
        previous = nowMs >= rotateAt + GENERATION_MS ? new Map() : current
        current = new Map()
        rotateAt = nowMs + GENERATION_MS
      }
      const b = find(client)
      if (!b) {
        current.set(client, { tokens: perMinute - 1, at: nowMs })
        return true
      }
      b.tokens = Math.min(perMinute, b.tokens + (nowMs - b.at) * perMs)
      b.at = nowMs
      if (b.tokens < 1) return false
      b.tokens--
      return true
    },
    get size() {
      return current.size + previous.size
    },
  }
}
