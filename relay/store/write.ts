// Writes run inside an LMDB write transaction: the checks (duplicate, tombstone, newer version,
// storage quota) and the writes they guard see one consistent state. These functions are
// synchronous; the caller wraps them in `transaction()`, which lmdb-js batches with every other write
// of the same event turn.
import { ABORT } from 'lmdb'
import { dTag, expiration, isHex, type NostrEvent } from '../event.ts'
import { DELETION_KIND, isAddressable, isReplaceable } from '../kinds.ts'
import { deletedAddrKey, deletedIdKey, expiryKey, indexKeys, indexValue, replaceKey, usageKey, valueKind, type IndexKey } from './keys.ts'
import type { Table } from './table.ts'

export interface StoreDbs {
  /** id -> canonical JSON text of the event */
  events: Table<string, string>
  /** index keys -> the event's kind and expiration (keys.ts: indexValue), checked without loading it */
  index: Table<number, IndexKey>
  /** replaceable pointers [id, created_at], tombstones, the expiry queue and per-author usage */
  meta: Table<unknown, IndexKey>
}

/** What one author may keep in this store. Ephemeral events are never stored, so never counted. */
export interface Quota {
  /** Most bytes of event JSON per author; 0: no bound. */
  bytes: number
  /** Most events per author; 0: no bound. */
  events: number
  /** At the bound: refuse the event, or delete the author's oldest regular events to make room. */
  action: 'block' | 'prune'
}

/** [bytes of event JSON, events] stored for one author. */
export type Usage = [bytes: number, events: number]

export type SaveResult = { ok: true; replaced?: string; deleted?: string[] } | { ok: false; reason: string }

/** Runs a callback in a child transaction that it may roll back by returning ABORT. */
export type ChildTxn = (fn: () => unknown) => void

interface Stored {
  e: NostrEvent
  json: string
}

function loadStored(dbs: StoreDbs, id: string): Stored | undefined {
  const json = dbs.events.get(id)
  return json === undefined ? undefined : { e: JSON.parse(json) as NostrEvent, json }
}

export function usageOf(dbs: StoreDbs, pubkey: string): Usage {
  return (dbs.meta.get(usageKey(pubkey)) as Usage | undefined) ?? [0, 0]
}

function addUsage(dbs: StoreDbs, pubkey: string, bytes: number, events: number): void {
  const [b, n] = usageOf(dbs, pubkey)
  if (n + events <= 0) dbs.meta.removeSync(usageKey(pubkey))
  else dbs.meta.putSync(usageKey(pubkey), [b + bytes, n + events])
}

/** Removes an event and everything that points at it. */
export function removeEvent(dbs: StoreDbs, e: NostrEvent, json: string): void {
  dbs.events.removeSync(e.id)
  for (const key of indexKeys(e)) dbs.index.removeSync(key)
  addUsage(dbs, e.pubkey, -Buffer.byteLength(json), -1)
  const exp = expiration(e)
  if (exp) dbs.meta.removeSync(expiryKey(exp, e.id))
  if (isReplaceable(e.kind) || isAddressable(e.kind)) {
    const rk = replaceKey(e.kind, e.pubkey, isAddressable(e.kind) ? dTag(e) : '')
    const ptr = dbs.meta.get(rk) as [string, number] | undefined
    if (ptr?.[0] === e.id) dbs.meta.removeSync(rk)
  }
}

/** Writes the event's body and index entries and counts it for its author. */
export function insertEvent(dbs: StoreDbs, e: NostrEvent, json: string): void {
  const exp = expiration(e)
  const value = indexValue(e.kind, exp)
  dbs.events.putSync(e.id, json)
  for (const key of indexKeys(e)) dbs.index.putSync(key, value)
  addUsage(dbs, e.pubkey, Buffer.byteLength(json), 1)
  if (exp) dbs.meta.putSync(expiryKey(exp, e.id), 0)
}

/** Newer wins; on equal created_at the lowest id wins (NIP-01). */
const supersedes = (ts: number, id: string, oldTs: number, oldId: string): boolean => ts > oldTs || (ts === oldTs && id < oldId)

/** Applies the replace rule; returns a rejection reason, or the id it replaced. */
function replaceOlder(dbs: StoreDbs, e: NostrEvent): { reason?: string; replaced?: string } {
  const d = isAddressable(e.kind) ? dTag(e) : ''
  const deletedAt = dbs.meta.get(deletedAddrKey(e.kind, e.pubkey, d)) as number | undefined
  if (deletedAt !== undefined && e.created_at <= deletedAt) return { reason: 'blocked: this address was deleted by its author' }
  const rk = replaceKey(e.kind, e.pubkey, d)
  const ptr = dbs.meta.get(rk) as [string, number] | undefined
  if (ptr) {
    if (!supersedes(e.created_at, e.id, ptr[1], ptr[0])) return { reason: 'duplicate: a newer version of this event is stored' }
    const old = loadStored(dbs, ptr[0])
    if (old) removeEvent(dbs, old.e, old.json)
  }
  dbs.meta.putSync(rk, [e.id, e.created_at])
  return { replaced: ptr?.[0] }
}

/** NIP-09: deletes the author's own events named by `e` and `a` tags and leaves tombstones. */
function applyDeletion(dbs: StoreDbs, del: NostrEvent): string[] {
  const deleted: string[] = []
  for (const tag of del.tags) {
    if (tag[0] === 'e' && isHex(tag[1], 64)) {
      const target = loadStored(dbs, tag[1])
      if (target && (target.e.pubkey !== del.pubkey || target.e.kind === DELETION_KIND)) continue
      if (target) {
        removeEvent(dbs, target.e, target.json)
        deleted.push(target.e.id)
      }
      dbs.meta.putSync(deletedIdKey(tag[1]), del.pubkey)
    } else if (tag[0] === 'a' && typeof tag[1] === 'string') {
      const [kindText, pubkey, ...rest] = tag[1].split(':')
      const kind = Number(kindText)
      if (pubkey !== del.pubkey || !Number.isSafeInteger(kind)) continue
      const d = rest.join(':')
      const dk = deletedAddrKey(kind, pubkey, d)
      const prev = dbs.meta.get(dk) as number | undefined
      if (prev === undefined || prev < del.created_at) dbs.meta.putSync(dk, del.created_at)
      const ptr = dbs.meta.get(replaceKey(kind, pubkey, d)) as [string, number] | undefined
      const target = ptr && ptr[1] <= del.created_at ? loadStored(dbs, ptr[0]) : undefined
      if (target) {
        removeEvent(dbs, target.e, target.json)
        deleted.push(target.e.id)
      }
    }
  }
  return deleted
}

/** Replace, insert, NIP-09: the save itself, without the quota. */
function applySave(dbs: StoreDbs, e: NostrEvent, json: string): SaveResult {
  let replaced: string | undefined
  if (isReplaceable(e.kind) || isAddressable(e.kind)) {
    const r = replaceOlder(dbs, e)
    if (r.reason) return { ok: false, reason: r.reason }
    replaced = r.replaced
  }
  insertEvent(dbs, e, json)
  const deleted = e.kind === DELETION_KIND ? applyDeletion(dbs, e) : undefined
  return { ok: true, replaced, deleted }
}

const fits = (u: Usage, q: Quota): boolean => (q.bytes === 0 || u[0] <= q.bytes) && (q.events === 0 || u[1] <= q.events)

function quotaText(q: Quota): string {
  const parts = [q.bytes > 0 ? `${q.bytes} bytes` : '', q.events > 0 ? `${q.events} events` : ''].filter(Boolean)
  return `blocked: storage quota for this pubkey is full (${parts.join(', ')})`
}

/**
 * Deletes the author's oldest regular events until the usage fits. Fails (and the caller rolls back)
 * when the event just saved would itself be among them: the store keeps the newest that fit.
 */
function pruneOldest(dbs: StoreDbs, saved: NostrEvent, q: Quota): boolean {
  let start: IndexKey = ['a', saved.pubkey, 0]
  let exclusiveStart = false
  const end: IndexKey = ['a', saved.pubkey, Number.MAX_SAFE_INTEGER]
  for (;;) {
    // A batch at a time: the range is not walked while it is being modified.
    const batch = [...dbs.index.getRange({ start, end, exclusiveStart, limit: 64 })]
    if (batch.length === 0) return false
    for (const { key, value } of batch) {
      const kind = valueKind(value)
      if (isReplaceable(kind) || isAddressable(kind)) continue
      const id = key[3] as string
      if (id === saved.id) return false
      const old = loadStored(dbs, id)
      if (old) removeEvent(dbs, old.e, old.json)
      if (fits(usageOf(dbs, saved.pubkey), q)) return true
    }
    start = batch[batch.length - 1].key
    exclusiveStart = true
  }
}

/**
 * Over the quota (a rare path): the save runs in a child transaction, so that what a replacement or
 * a NIP-09 deletion frees counts, and a refusal leaves nothing behind.
 */
function saveOverQuota(dbs: StoreDbs, e: NostrEvent, json: string, q: Quota, child: ChildTxn): SaveResult {
  let result: SaveResult = { ok: false, reason: 'error: the event could not be stored' }
  child(() => {
    result = applySave(dbs, e, json)
    if (!result.ok) return ABORT
    if (fits(usageOf(dbs, e.pubkey), q)) return undefined
    if (q.action === 'prune' && pruneOldest(dbs, e, q)) return undefined
    result = { ok: false, reason: quotaText(q) }
    return ABORT
  })
  return result
}

/** The whole save of one event; must run inside a write transaction. */
export function saveInTxn(dbs: StoreDbs, e: NostrEvent, json: string, quota?: Quota, child?: ChildTxn): SaveResult {
  if (dbs.events.doesExist(e.id)) return { ok: false, reason: 'duplicate: already have this event' }
  const tomb = dbs.meta.get(deletedIdKey(e.id))
  if (tomb === e.pubkey) return { ok: false, reason: 'blocked: this event was deleted by its author' }
  if (quota && child) {
    const [bytes, events] = usageOf(dbs, e.pubkey)
    if (!fits([bytes + Buffer.byteLength(json), events + 1], quota)) return saveOverQuota(dbs, e, json, quota, child)
  }
  return applySave(dbs, e, json)
}
