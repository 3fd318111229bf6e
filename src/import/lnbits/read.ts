// The reading and verifying half of the LNbits import: a stream of plain records (relays with
// their settings, accounts, proven events, and every refusal with its reason), relay by relay.
// Nothing is written here; `applyLnbits` consumes the stream. Per relay: the relay, its accounts,
// then its events in created_at order, less those its authors deleted with a kind 5 (see
// deletions.ts). A bad row is refused with a reason and the rest goes on.
import { hexPubkey } from '../../pubkey.ts'
import type { NostrEvent } from '../../../relay/event.ts'
import { addDeletion, type DeletionIndex, emptyDeletionIndex, isDeleted } from './deletions.ts'
import { verifyEventRow } from './events.ts'
import type { AccountRow, RelayRow } from './rows.ts'
import { toBool, toCount, toText } from './rows.ts'
import { type LnbitsRelaySettings, normaliseLnbitsSettings } from './settings.ts'
import type { LnbitsSource } from './source.ts'

export interface LnbitsRelayInfo {
  name: string
  description: string | null
  /** The operator's pubkey as LNbits stored it (hex, or whatever was typed). */
  pubkey: string | null
  contact: string | null
  active: boolean
  /** The LNbits user that owned the relay. */
  userId: string | null
}

export interface ImportedRelay {
  id: string
  settings: LnbitsRelaySettings
  info: LnbitsRelayInfo
  /** Settings that were odd but usable (unknown keys, both key styles disagreeing). */
  warnings: string[]
}

export interface LnbitsAccount {
  pubkey: string
  sats: number
  /** Bytes bought on top of the relay's free storage. */
  storage: number
  paidToJoin: boolean
  /** May write without paying (not an allow list). */
  allowed: boolean
  /** Always wins over everything else. */
  blocked: boolean
}

export type RefusalCode = 'invalid-relay' | 'invalid-settings' | 'invalid-account' | 'malformed' | 'bad-id' | 'bad-sig' | 'target'

export interface Refusal {
  table: 'relays' | 'accounts' | 'events'
  relayId: string
  /** The row's key: relay id, account pubkey or event id (as stored). */
  rowId: string
  code: RefusalCode
  reason: string
}

export type LnbitsRecord =
  | { type: 'source'; label: string }
  | { type: 'relay'; relay: ImportedRelay }
  | { type: 'account'; relayId: string; account: LnbitsAccount }
  | { type: 'event'; relayId: string; event: NostrEvent; publisher: string; repaired: boolean }
  | { type: 'deleted'; relayId: string; eventId: string }
  | { type: 'soft-deleted'; relayId: string; count: number }
  | { type: 'refused'; refusal: Refusal }
  | { type: 'orphans'; relayId: string; events: number }

/** Relay ids become URL path segments (/nostrrelay/<id>): unreserved characters only. */
const RELAY_ID = /^[A-Za-z0-9._~-]{1,128}$/

export async function* readLnbits(source: LnbitsSource): AsyncGenerator<LnbitsRecord> {
  yield { type: 'source', label: source.label }
  for (const row of await source.relays()) {
    const relay = toRelay(row)
    if ('refusal' in relay) {
      yield { type: 'refused', refusal: relay.refusal }
      continue
    }
    yield { type: 'relay', relay }
    yield* readAccounts(source, relay.id)
    const deletions = await deletionIndex(source, relay.id)
    yield { type: 'soft-deleted', relayId: relay.id, count: await source.softDeleted(relay.id) }
    yield* readEvents(source, relay.id, deletions)
  }
  for (const o of await source.orphanEvents()) yield { type: 'orphans', ...o }
}

function toRelay(row: RelayRow): ImportedRelay | { refusal: Refusal } {
  const id = toText(row.id) ?? ''
  const refuse = (code: RefusalCode, reason: string) => ({ refusal: { table: 'relays' as const, relayId: id, rowId: id, code, reason } })
  if (!RELAY_ID.test(id)) return refuse('invalid-relay', `relay id ${JSON.stringify(id)} is not usable in a URL path (letters, digits, . _ ~ - only)`)
  const active = toBool(row.active)
  if (active === undefined) return refuse('invalid-relay', `active is not a boolean (${JSON.stringify(row.active)})`)
  const settings = normaliseLnbitsSettings(row.meta)
  if (!settings.ok) return refuse('invalid-settings', settings.error)
  const info: LnbitsRelayInfo = {
    name: toText(row.name) ?? '',
    description: toText(row.description),
    pubkey: toText(row.pubkey),
    contact: toText(row.contact),
    active,
    userId: toText(row.user_id),
  }
  return { id, settings: settings.settings, info, warnings: settings.warnings }
}

async function* readAccounts(source: LnbitsSource, relayId: string): AsyncGenerator<LnbitsRecord> {
  for await (const row of source.accounts(relayId)) {
    const account = toAccount(row)
    if (typeof account === 'string') {
      yield { type: 'refused', refusal: { table: 'accounts', relayId, rowId: toText(row.pubkey) ?? '', code: 'invalid-account', reason: account } }
    } else yield { type: 'account', relayId, account }
  }
}

function toAccount(row: AccountRow): LnbitsAccount | string {
  const pubkey = hexPubkey(toText(row.pubkey) ?? '')
  if (!pubkey) return `pubkey ${JSON.stringify(row.pubkey)} is neither 64 hex characters nor an npub`
  const sats = toCount(row.sats)
  const storage = toCount(row.storage)
  if (sats === undefined) return `sats is not a whole number >= 0 (${JSON.stringify(row.sats)})`
  if (storage === undefined) return `storage is not a whole number >= 0 (${JSON.stringify(row.storage)})`
  const flags = { paidToJoin: toBool(row.paid_to_join), allowed: toBool(row.allowed), blocked: toBool(row.blocked) }
  for (const [name, v] of Object.entries(flags)) if (v === undefined) return `${name} is not a boolean`
  return { pubkey, sats, storage, paidToJoin: flags.paidToJoin!, allowed: flags.allowed!, blocked: flags.blocked! }
}

async function deletionIndex(source: LnbitsSource, relayId: string): Promise<DeletionIndex> {
  const index = emptyDeletionIndex()
  for await (const row of source.events(relayId, { kind: 5 })) {
    const v = verifyEventRow(row)
    // unproven deletions delete nothing; the main pass reports them
    if (v.ok) addDeletion(index, v.event)
  }
  return index
}

async function* readEvents(source: LnbitsSource, relayId: string, deletions: DeletionIndex): AsyncGenerator<LnbitsRecord> {
  for await (const row of source.events(relayId)) {
    const v = verifyEventRow(row)
    if (!v.ok) {
      yield { type: 'refused', refusal: { table: 'events', relayId, rowId: toText(row.id) ?? '', code: v.code, reason: v.reason } }
    } else if (isDeleted(deletions, v.event)) yield { type: 'deleted', relayId, eventId: v.event.id }
    else yield { type: 'event', relayId, event: v.event, publisher: v.publisher, repaired: v.repaired }
  }
}
