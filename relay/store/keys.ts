// Index key layout. Every index key ends in [created_at, id] so that a reverse range walk returns
// newest first and a range bounded by since/until is a contiguous slice.
import type { NostrEvent } from '../event.ts'

export type IndexKey = Array<string | number>

/** Tag values longer than this are not indexed (LMDB keys are capped near 2 KB). */
export const MAX_INDEXED_TAG_VALUE = 256

export function indexKeys(e: NostrEvent): IndexKey[] {
  const ts = e.created_at
  const keys: IndexKey[] = [
    ['c', ts, e.id],
    ['k', e.kind, ts, e.id],
    ['a', e.pubkey, ts, e.id],
    ['ak', e.pubkey, e.kind, ts, e.id],
  ]
  let seen: Set<string> | undefined
  for (const tag of e.tags) {
    if (tag.length < 2 || tag[0].length !== 1 || tag[1].length > MAX_INDEXED_TAG_VALUE) continue
    const pair = tag[0] + tag[1]
    seen ??= new Set()
    if (seen.has(pair)) continue
    seen.add(pair)
    keys.push(['t', tag[0], tag[1], ts, e.id])
  }
  return keys
}

// Index values pack the event's kind and its NIP-40 expiration into one number, so a walk can drop
// expired entries and check `kinds` without loading the event (COUNT never loads it). A plain
// number keeps the scan free of allocations. Expirations past 2^34 s (year 2514) are stored as that.
const KIND_UNIT = 2 ** 34

export const indexValue = (kind: number, exp: number): number => kind * KIND_UNIT + Math.min(exp, KIND_UNIT - 1)
export const valueKind = (v: number): number => Math.floor(v / KIND_UNIT)
export const valueExpiry = (v: number): number => v % KIND_UNIT

/** Bumped when the index layout changes: an older store is reindexed when it is opened. */
export const LAYOUT = 2
export const layoutKey: IndexKey = ['layout']

/** Stored bytes and events per author, kept in the transaction of every write that changes them. */
export const usageKey = (pubkey: string): IndexKey => ['u', pubkey]

/** Replaceable and addressable events are kept once per (kind, pubkey, d). */
export const replaceKey = (kind: number, pubkey: string, d: string): IndexKey => ['r', kind, pubkey, d]
/** NIP-09 tombstone of an event id, holding the pubkey that deleted it. */
export const deletedIdKey = (id: string): IndexKey => ['del', id]
/** NIP-09 tombstone of an address, holding the created_at of the newest deletion. */
export const deletedAddrKey = (kind: number, pubkey: string, d: string): IndexKey => ['dela', kind, pubkey, d]
/** NIP-40 expiration queue. */
export const expiryKey = (at: number, id: string): IndexKey => ['exp', at, id]
