// An in-memory LNbits import target and the checks both engines' tests share.
import { expect } from 'vitest'
import type { NostrEvent } from '../../relay/event.ts'
import type { LnbitsAccount, LnbitsRelayInfo, LnbitsRelaySettings, LnbitsSummary, LnbitsTarget } from '../../src/import/lnbits/index.ts'
import type { Expected, LnbitsFixture } from './lnbits-fixtures.ts'

export interface MemoryLnbits extends LnbitsTarget {
  relays: Map<string, { settings: LnbitsRelaySettings; info: LnbitsRelayInfo }>
  accounts: Map<string, LnbitsAccount>
  /** relay id -> events in the order they were saved */
  events: Map<string, NostrEvent[]>
  writes: number
}

export function memoryLnbits(): MemoryLnbits {
  const t: MemoryLnbits = {
    relays: new Map(),
    accounts: new Map(),
    events: new Map(),
    writes: 0,
    putRelay(id, settings, info) {
      t.writes++
      t.relays.set(id, { settings, info })
    },
    putAccount(relayId, account) {
      t.writes++
      t.accounts.set(`${relayId}/${account.pubkey}`, account)
    },
    saveEvent(relayId, event) {
      const list = t.events.get(relayId) ?? []
      t.events.set(relayId, list)
      if (list.some((e) => e.id === event.id)) return { ok: false, reason: 'duplicate: already have this event' }
      t.writes++
      list.push(event)
      return { ok: true }
    },
  }
  return t
}

const byTime = (a: NostrEvent, b: NostrEvent) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1)

/** Everything the fixture's first import must produce. */
export function checkFirstImport(target: MemoryLnbits, summary: LnbitsSummary, fixture: LnbitsFixture, expected: Expected): void {
  expect([...target.relays.keys()].sort()).toEqual(['bare', 'camel', 'main'])
  expect(summary.refusedRelays.map((r) => [r.relayId, r.code])).toEqual([
    ['a/b', 'invalid-relay'],
    ['broken', 'invalid-settings'],
  ])
  expect(summary.refusedRelays[1].reason).toMatch(/meta is not valid JSON/)

  // Settings: snake_case and camelCase rows give the same typed object, defaults filled in.
  const main = target.relays.get('main')!
  expect(main.settings).toEqual({
    maxClientFilters: 5,
    limitPerFilter: 200,
    maxEventsPerHour: 60,
    createdAtDaysPast: 1,
    createdAtHoursPast: 0,
    createdAtMinutesPast: 0,
    createdAtSecondsPast: 0,
    createdAtDaysFuture: 0,
    createdAtHoursFuture: 0,
    createdAtMinutesFuture: 15,
    createdAtSecondsFuture: 0,
    freeStorageValue: 512,
    freeStorageUnit: 'KB',
    fullStorageAction: 'block',
    isPaidRelay: true,
    costToJoin: 21,
    storageCostValue: 100,
    storageCostUnit: 'MB',
    wallet: 'wallet-id',
    domain: 'relay.example',
    requireAuthEvents: true,
    skipedAuthEvents: [4],
    forcedAuthEvents: [],
    requireAuthFilter: false,
  })
  const src = fixture.relays.find((r) => r.id === 'main')!
  expect(main.info).toEqual({ name: src.name, description: 'the main relay', pubkey: src.pubkey, contact: 'ops@example', active: true, userId: 'u1' })
  const camel = target.relays.get('camel')!
  expect(camel.info.active).toBe(false)
  expect(camel.settings).toMatchObject({ maxClientFilters: 2, limitPerFilter: 50, requireAuthFilter: true, forcedAuthEvents: [4, 1059], freeStorageValue: 0 })
  expect(camel.settings).toMatchObject({ maxEventsPerHour: 0, freeStorageUnit: 'MB', fullStorageAction: 'prune', skipedAuthEvents: [], wallet: '' })
  expect(target.relays.get('bare')!.settings).toMatchObject({ limitPerFilter: 1000, freeStorageValue: 1, isPaidRelay: false })

  // Accounts, with the one whose pubkey is not a key refused.
  const accounts = fixture.accounts.filter((a) => a.pubkey !== 'nope')
  expect(target.accounts.size).toBe(accounts.length)
  for (const a of accounts) {
    expect(target.accounts.get(`${a.relay_id}/${a.pubkey}`)).toEqual({
      pubkey: a.pubkey,
      sats: a.sats,
      storage: a.storage,
      paidToJoin: a.paid_to_join,
      allowed: a.allowed,
      blocked: a.blocked,
    })
  }
  expect(summary.refusals.filter((r) => r.table === 'accounts').map((r) => [r.relayId, r.rowId, r.code])).toEqual([['main', 'nope', 'invalid-account']])

  // Events: exactly the good ones, byte for byte, in created_at order.
  for (const relay of ['main', 'camel', 'bare']) {
    expect(target.events.get(relay) ?? [], relay).toEqual([...expected.events[relay]].sort(byTime))
  }
  const refusedEvents = Object.fromEntries(summary.refusals.filter((r) => r.table === 'events').map((r) => [r.rowId, r.code]))
  expect(refusedEvents).toEqual(expected.refused.main)

  const s = summary.relays.find((r) => r.id === 'main')!
  expect(s.events).toEqual({
    imported: expected.events.main.length,
    alreadyPresent: 0,
    repaired: expected.repaired.main.length,
    deletedByKind5: expected.deletedByKind5.main.length,
    softDeleted: expected.softDeleted.main,
    refused: Object.keys(expected.refused.main).length,
    refusedByCode: { 'bad-id': 1, 'bad-sig': 1, malformed: 2 },
  })
  expect(s.accounts).toEqual({ imported: 3, refused: 1 })
  expect(summary.orphanEvents).toEqual([{ relayId: 'gone', events: 2 }])
}
