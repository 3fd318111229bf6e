// Per-address budgets for the work a client makes the process do before anything can refuse it:
// every frame is parsed, every EVENT has its signature checked. One token bucket per address (an
// IPv6 /64 counts as one, as for connections), shared by all of that address's connections and
// relays, so opening more sockets buys nothing. Buckets live in two generations that rotate every
// refill period: a bucket untouched for a whole period is full again, so the old generation is
// dropped whole, never walked; the map holds only addresses active in the last two periods.

export interface AddressBudget {
  /** Takes `amount` from the address's bucket; false, taking nothing, when it has too little. */
  take(address: string, amount: number, nowMs: number): boolean
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * `perSecond` sustained, bursts of `burst`; perSecond 0 is no bound. An amount larger than the
 * burst costs the whole burst (it would otherwise never pass): a bucket is never in debt, which is
 * what lets an idle generation be dropped as full.
 */
export function createAddressBudget(perSecond: number, burst: number): AddressBudget {
  if (perSecond <= 0) return { take: () => true, size: 0 }
  const periodMs = Math.max(1000, (burst / perSecond) * 1000)
  let current = new Map<string, Bucket>()
  let previous = new Map<string, Bucket>()
  let generationStart = 0

  function bucketOf(address: string, nowMs: number): Bucket {
    if (nowMs - generationStart >= periodMs) {
      previous = nowMs - generationStart >= 2 * periodMs ? new Map() : current
      current = new Map()
      generationStart = nowMs
    }
    let b = current.get(address)
    if (b) return b
    b = previous.get(address) ?? { tokens: burst, at: nowMs }
    previous.delete(address)
    current.set(address, b)
    return b
  }

  return {
    take(address, amount, nowMs) {
      const b = bucketOf(address, nowMs)
      b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * perSecond)
      b.at = nowMs
      const cost = Math.min(amount, burst)
      if (b.tokens < cost) return false
      b.tokens -= cost
      return true
    },
    get size() {
      return current.size + previous.size
    },
  }
}
