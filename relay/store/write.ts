// Writes run inside an LMDB write transaction: the checks (duplicate, tombstone, newer version) and
// the writes they guard see one consistent state. These functions are synchronous; the caller wraps
// them in `transaction()`, which lmdb-js batches with every other write of the same event turn.
import type { Database } from 'lmdb'
import { dTag, expiration, isAddressable, isReplaceable, type NostrEvent } from '../event.ts'
import { deletedAddrKey, deletedIdKey, expiryKey, indexKeys, replaceKey, type IndexKey } from './keys.ts'

export interface StoreDbs {
  /** id -> canonical JSON text of the event */
  events: Database<string, string>
  /** index keys -> expiration timestamp of the event (0: never), checked without loading it */
  index: Database<number, IndexKey>
  /** replaceable pointers [id, created_at], tombstones and the expiry queue */
  meta: Database<unknown, IndexKey>
}

export type SaveResult = { ok: true; replaced?: string; deleted?: string[] } | { ok: false; reason: string }

function loadEvent(dbs: StoreDbs, id: string): NostrEvent | undefined {
  const json = dbs.events.get(id)
  return json === undefined ? undefined : (JSON.parse(json) as NostrEvent)
}

/** Removes an event and everything that points at it. */
export function removeEvent(dbs: StoreDbs, e: NostrEvent): void {
  dbs.events.removeSync(e.id)
  for (const key of indexKeys(e)) dbs.index.removeSync(key)
  const exp = expiration(e)
  if (exp) dbs.meta.removeSync(expiryKey(exp, e.id))
  if (isReplaceable(e.kind) || isAddressable(e.kind)) {
    const rk = replaceKey(e.kind, e.pubkey, isAddressable(e.kind) ? dTag(e) : '')
    const ptr = dbs.meta.get(rk) as [string, number] | undefined
    if (ptr?.[0] === e.id) dbs.meta.removeSync(rk)
  }
}

function insertEvent(dbs: StoreDbs, e: NostrEvent, json: string): void {
  const exp = expiration(e)
  dbs.events.putSync(e.id, json)
  for (const key of indexKeys(e)) dbs.index.putSync(key, exp)
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
    const old = loadEvent(dbs, ptr[0])
    if (old) removeEvent(dbs, old)
  }
  dbs.meta.putSync(rk, [e.id, e.created_at])
  return { replaced: ptr?.[0] }
}

/** NIP-09: deletes the author's own events named by `e` and `a` tags and leaves tombstones. */
function applyDeletion(dbs: StoreDbs, del: NostrEvent): string[] {
  const deleted: string[] = []
  for (const tag of del.tags) {
    if (tag[0] === 'e' && typeof tag[1] === 'string' && /^[0-9a-f]{64}$/.test(tag[1])) {
      const target = loadEvent(dbs, tag[1])
      if (target && (target.pubkey !== del.pubkey || target.kind === 5)) continue
      if (target) {
        removeEvent(dbs, target)
        deleted.push(target.id)
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
      const target = ptr && ptr[1] <= del.created_at ? loadEvent(dbs, ptr[0]) : undefined
      if (target) {
        removeEvent(dbs, target)
        deleted.push(target.id)
      }
    }
  }
  return deleted
}

/** The whole save of one event; must run inside a write transaction. */
export function saveInTxn(dbs: StoreDbs, e: NostrEvent, json: string): SaveResult {
  if (dbs.events.doesExist(e.id)) return { ok: false, reason: 'duplicate: already have this event' }
  const tomb = dbs.meta.get(deletedIdKey(e.id))
  if (tomb === e.pubkey) return { ok: false, reason: 'blocked: this event was deleted by its author' }
  let replaced: string | undefined
  if (isReplaceable(e.kind) || isAddressable(e.kind)) {
    const r = replaceOlder(dbs, e)
    if (r.reason) return { ok: false, reason: r.reason }
    replaced = r.replaced
  }
  insertEvent(dbs, e, json)
  const deleted = e.kind === 5 ? applyDeletion(dbs, e) : undefined
  return { ok: true, replaced, deleted }
}
