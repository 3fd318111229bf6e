// What the bunker remembers to refuse a replayed request: each accepted request's event id and its
// (addressed key, client, rpc id), for as long as the request could still pass the time window.
// Entries leave by time only, never under pressure: an LRU can be flushed by a flood of cheap
// events, after which a captured request is new again. Memory is bounded by a cap on live
// requests instead; the caller refuses requests while there is no room (fail closed).
import { createHash } from 'node:crypto'

/**
 * Entries live in one set per span of this many seconds of expiry: a lookup checks each live set
 * (about (2 x window + margin) / 15 of them), and expiry drops whole sets, so no sweep ever walks
 * entries one by one (200,000 deletions held the loop ~0.4 s on this machine under load).
 */
const BUCKET_SECONDS = 15

export interface ReplayMemory {
  /** True when an accepted request had this event id (and it has not expired). */
  hasEvent(eventId: string): boolean
  /** True when an accepted request had this (key, client, rpc id). */
  hasRequest(requestKey: string): boolean
  /** Room for one more request; strangers get at most half of the capacity. */
  hasRoom(stranger: boolean, now: number): boolean
  /** Remembers a request until `until` (unix seconds) has passed. */
  remember(eventId: string, requestKey: string | undefined, stranger: boolean, until: number): void
  /** Drops what expired before `now`; hasRoom does this too. */
  sweep(now: number): void
  readonly size: number
  readonly strangers: number
}

/** The (addressed key, client, rpc id) of a request, hashed to a fixed 43 characters. */
export const requestKeyOf = (keyPubkey: string, client: string, rpcId: string): string =>
  createHash('sha256').update(`${keyPubkey}${client}\n${rpcId}`).digest('base64url')

interface Bucket {
  ids: Set<string>
  requests: number
  strangers: number
}

export function createReplayMemory(capacity: number): ReplayMemory {
  const buckets = new Map<number, Bucket>()
  const strangerCap = Math.max(1, Math.floor(capacity / 2))
  let requests = 0
  let strangers = 0
  /** The earliest moment a bucket can expire: sweeps before it are free. */
  let due = Number.POSITIVE_INFINITY

  const has = (id: string): boolean => {
    for (const b of buckets.values()) if (b.ids.has(id)) return true
    return false
  }

  // Bucket b holds entries whose `until` is in ((b-1)*B, b*B]; it goes once now > b*B.
  function sweep(now: number): void {
    if (now <= due) return
    due = Number.POSITIVE_INFINITY
    for (const [index, b] of buckets) {
      if (index * BUCKET_SECONDS >= now) {
        due = Math.min(due, index * BUCKET_SECONDS)
        continue
      }
      requests -= b.requests
      strangers -= b.strangers
      buckets.delete(index)
    }
  }

  return {
    hasEvent: has,
    hasRequest: has,
    hasRoom(stranger, now) {
      sweep(now)
      return requests < capacity && (!stranger || strangers < strangerCap)
    },
    sweep,
    remember(eventId, requestKey, stranger, until) {
      const index = Math.ceil(until / BUCKET_SECONDS)
      let b = buckets.get(index)
      if (!b) {
        buckets.set(index, (b = { ids: new Set(), requests: 0, strangers: 0 }))
        due = Math.min(due, index * BUCKET_SECONDS)
      }
      b.ids.add(eventId)
      if (requestKey !== undefined) b.ids.add(requestKey)
      b.requests++
      requests++
      if (stranger) {
        b.strangers++
        strangers++
      }
    },
    get size() {
      return requests
    },
    get strangers() {
      return strangers
    },
  }
}
