// NIP-09 over an imported relay. LNbits soft-deleted only the events a kind 5 named by `e` tag and
// that it already held; an event that reached it after its deletion stayed visible, and `a` tags
// were ignored. The importer therefore re-applies every verified kind 5 as if all had arrived in
// created_at order: it drops the author's own events named by `e`, and the versions of an address
// named by `a` up to the deletion's created_at. Kind 5 events themselves are never deleted.
//
// The index holds one entry per `e`/`a` reference of the relay's kind 5 events. LNbits capped what
// each publisher could store (free storage, 1 MB by default), which bounds it.
import { type NostrEvent, tagValue } from '../../../relay/event.ts'
import { isAddressable, isReplaceable } from '../../../relay/kinds.ts'

export interface DeletionIndex {
  /** `${id}:${pubkey}` of each event its author asked to delete. */
  ids: Set<string>
  /** `${kind}:${pubkey}:${d}` -> created_at of the newest deletion of that address. */
  addresses: Map<string, number>
}

export const emptyDeletionIndex = (): DeletionIndex => ({ ids: new Set(), addresses: new Map() })

/** Adds a verified kind 5 event. The index ends the same whatever the order of the calls. */
export function addDeletion(index: DeletionIndex, del: NostrEvent): void {
  for (const tag of del.tags) {
    if (tag[0] === 'e' && typeof tag[1] === 'string') index.ids.add(`${tag[1]}:${del.pubkey}`)
    if (tag[0] === 'a' && typeof tag[1] === 'string') {
      const [kind, pubkey] = tag[1].split(':')
      // one may delete only one's own address
      if (pubkey !== del.pubkey || !/^\d+$/.test(kind)) continue
      index.addresses.set(tag[1], Math.max(index.addresses.get(tag[1]) ?? 0, del.created_at))
    }
  }
}

/** Whether a verified event is deleted by one of the indexed kind 5 events. */
export function isDeleted(index: DeletionIndex, e: NostrEvent): boolean {
  if (e.kind === 5) return false
  if (index.ids.has(`${e.id}:${e.pubkey}`)) return true
  if (!isReplaceable(e.kind) && !isAddressable(e.kind)) return false
  const d = isAddressable(e.kind) ? (tagValue(e, 'd') ?? '') : ''
  const deletedAt = index.addresses.get(`${e.kind}:${e.pubkey}:${d}`)
  return deletedAt !== undefined && e.created_at <= deletedAt
}
