// Token buckets for account creation: one per source address and one for everybody. A bucket holds
// up to `count` tokens and refills `count` per `periodMs`; a take needs a token in both.
import { LRUCache } from 'lru-cache'

export interface CreationLimit {
  /** Takes a token from `source`'s bucket (when known) and the global one; false when either is empty. */
  take(source: string | undefined): boolean
}

interface Bucket {
  tokens: number
  at: number
}

/** 0 means no bound. Sources past `maxSources` push out the least recently seen ones. */
export function createCreationLimit(opts: { perSource: number; global: number; periodMs: number; maxSources?: number; now?: () => number }): CreationLimit {
  const now = opts.now ?? Date.now
  const sources = new LRUCache<string, Bucket>({ max: opts.maxSources ?? 10_000 })
  const all: Bucket = { tokens: opts.global, at: now() }

  const refill = (b: Bucket, count: number, t: number): void => {
    b.tokens = Math.min(count, b.tokens + ((t - b.at) * count) / opts.periodMs)
    b.at = t
  }

  return {
    take(source) {
      const t = now()
      let mine: Bucket | undefined
      if (opts.perSource > 0 && source !== undefined) {
        mine = sources.get(source)
        if (!mine) sources.set(source, (mine = { tokens: opts.perSource, at: t }))
        refill(mine, opts.perSource, t)
        if (mine.tokens < 1) return false
      }
      if (opts.global > 0) {
        refill(all, opts.global, t)
        if (all.tokens < 1) return false
        all.tokens--
      }
      if (mine) mine.tokens--
      return true
    },
  }
}
