// LNbits nostrrelay databases for the importer's tests: the extension's own schema (its migration
// m001_initial, in its SQLite and PostgreSQL forms) filled with rows written the way LNbits writes
// them (an events row, then one event_tags row per tag with the further elements as Python's
// json.dumps), including the bad rows real instances hold.
import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'
import { secp256k1 } from '../../native/secp256k1/index.ts'
import type { NostrEvent } from '../../relay/event.ts'
import { eventHash } from '../../relay/verify.ts'

const sqliteDdl = (bigInt: string, schema: string) => [
  `CREATE TABLE ${schema}relays (user_id TEXT NOT NULL, id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, pubkey TEXT, contact TEXT,
     active BOOLEAN DEFAULT false, meta TEXT NOT NULL DEFAULT '{}')`,
  `CREATE TABLE ${schema}events (relay_id TEXT NOT NULL, deleted BOOLEAN DEFAULT false, publisher TEXT NOT NULL, id TEXT NOT NULL,
     pubkey TEXT NOT NULL, created_at ${bigInt} NOT NULL, kind INT NOT NULL, content TEXT NOT NULL, sig TEXT NOT NULL,
     size ${bigInt} DEFAULT 0, PRIMARY KEY (relay_id, id))`,
  `CREATE TABLE ${schema}event_tags (relay_id TEXT NOT NULL, event_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, extra TEXT)`,
  `CREATE TABLE ${schema}accounts (relay_id TEXT NOT NULL, pubkey TEXT NOT NULL, sats ${bigInt} DEFAULT 0, storage ${bigInt} DEFAULT 0,
     paid_to_join BOOLEAN DEFAULT false, allowed BOOLEAN DEFAULT false, blocked BOOLEAN DEFAULT false, PRIMARY KEY (relay_id, pubkey))`,
]

export interface Key {
  sk: Uint8Array
  pk: string
}

export const newKey = (): Key => {
  const sk = randomBytes(32)
  return { sk, pk: secp256k1.publicKey(sk) }
}

export function sign(key: Key, e: { kind: number; created_at: number; tags: string[][]; content: string }): NostrEvent {
  const unsigned = { ...e, pubkey: key.pk }
  const hash = eventHash(unsigned)
  return { ...unsigned, id: hash.toString('hex'), sig: secp256k1.sign(hash, key.sk) }
}

/** Python's json.dumps of a list of strings, defaults (", " separator, ensure_ascii). */
export function pyJsonList(items: string[]): string {
  const short: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }
  const char = (c: string) => {
    const code = c.charCodeAt(0)
    if (short[c]) return short[c]
    return code < 0x20 || code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : c
  }
  // per UTF-16 unit, as Python escapes astral characters as surrogate pairs
  const str = (s: string) => `"${Array.from({ length: s.length }, (_, i) => char(s[i])).join('')}"`
  return `[${items.map(str).join(', ')}]`
}

export interface RelayFixture {
  user_id: string
  id: string
  name: string
  description: string | null
  pubkey: string | null
  contact: string | null
  active: boolean
  meta: string
}

export interface EventFixture {
  relay_id: string
  deleted: boolean
  publisher: string
  event: NostrEvent
  /** Tag rows as stored, when they differ from the event's tags (LNbits' defects). */
  tagRows?: string[][]
  /** Columns as stored, when they differ from the event's (LNbits' defects, broken rows). */
  stored?: Partial<Record<'id' | 'pubkey' | 'content' | 'sig', string>>
  /** A raw `extra` column for the first tag row, when it is broken. */
  brokenExtra?: string
}

export interface AccountFixture {
  relay_id: string
  pubkey: string
  sats: number
  storage: number
  paid_to_join: boolean
  allowed: boolean
  blocked: boolean
}

export interface LnbitsFixture {
  relays: RelayFixture[]
  events: EventFixture[]
  accounts: AccountFixture[]
}

interface Row {
  table: 'relays' | 'events' | 'event_tags' | 'accounts'
  values: Record<string, unknown>
}

/** The rows LNbits would have written, in insertion order. Booleans stay booleans here. */
export function rowsOf(f: LnbitsFixture): Row[] {
  const rows: Row[] = []
  for (const r of f.relays) rows.push({ table: 'relays', values: { ...r } })
  for (const a of f.accounts) rows.push({ table: 'accounts', values: { ...a } })
  for (const x of f.events) {
    const e = x.event
    const stored = { id: e.id, pubkey: e.pubkey, content: e.content, sig: e.sig, ...x.stored }
    rows.push({
      table: 'events',
      values: { relay_id: x.relay_id, deleted: x.deleted, publisher: x.publisher, ...stored, created_at: e.created_at, kind: e.kind, size: 0 },
    })
    ;(x.tagRows ?? e.tags).forEach((tag, i) => {
      const [name, value, ...rest] = tag
      const extra = i === 0 && x.brokenExtra !== undefined ? x.brokenExtra : rest.length > 0 ? pyJsonList(rest) : null
      rows.push({ table: 'event_tags', values: { relay_id: x.relay_id, event_id: stored.id, name, value, extra } })
    })
  }
  return rows
}

/** Writes an ext_nostrrelay.sqlite3 as LNbits on SQLite would (booleans as 0/1). */
export function writeSqlite(path: string, f: LnbitsFixture): void {
  const db = new Database(path)
  for (const ddl of sqliteDdl('INT', '')) db.exec(ddl)
  const insert = db.transaction((rows: Row[]) => {
    for (const { table, values } of rows) {
      const cols = Object.keys(values)
      const vals = Object.values(values).map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))
      db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...vals)
    }
  })
  insert(rowsOf(f))
  db.close()
}

/** Creates schema `nostrrelay` in the database at `url` and fills it as LNbits on PostgreSQL would. */
export async function writePostgres(url: string, f: LnbitsFixture, schema = 'nostrrelay'): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.query(`CREATE SCHEMA ${schema}`)
    for (const ddl of sqliteDdl('BIGINT', `${schema}.`)) await client.query(ddl)
    await client.query('BEGIN')
    for (const { table, values } of rowsOf(f)) {
      const cols = Object.keys(values)
      await client.query(`INSERT INTO ${schema}.${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(values))
    }
    await client.query('COMMIT')
  } finally {
    await client.end()
  }
}

export interface Expected {
  /** relay id -> the events an import must bring, by id */
  events: Record<string, NostrEvent[]>
  /** relay id -> event id -> refusal code */
  refused: Record<string, Record<string, string>>
  deletedByKind5: Record<string, string[]>
  repaired: Record<string, string[]>
  softDeleted: Record<string, number>
}

/**
 * The data set: relay `main` (snake_case meta) with good, defective and broken events, relay
 * `camel` (camelCase meta) sharing one event with `main`, relay `bare` (empty meta), a relay with
 * a meta that is not JSON, one whose id cannot be a URL path segment, and events of a deleted relay.
 */
export function lnbitsFixture(): { fixture: LnbitsFixture; expected: Expected; keys: Record<string, Key> } {
  const alice = newKey()
  const bob = newKey()
  const carol = newKey()
  const t0 = 1_700_000_000
  const events: EventFixture[] = []
  const expected: Expected = {
    events: { main: [], camel: [], bare: [] },
    refused: { main: {} },
    deletedByKind5: { main: [] },
    repaired: { main: [] },
    softDeleted: { main: 1 },
  }
  const add = (relay: string, e: NostrEvent, extra: Partial<EventFixture> = {}) => {
    events.push({ relay_id: relay, deleted: false, publisher: e.pubkey, event: e, ...extra })
    return e
  }
  const good = (relay: string, e: NostrEvent, extra: Partial<EventFixture> = {}) => {
    expected.events[relay].push(add(relay, e, extra))
    return e
  }

  const hello = good('main', sign(alice, { kind: 1, created_at: t0, tags: [['t', 'nostr']], content: 'hello' }))
  good(
    'main',
    sign(alice, {
      kind: 1,
      created_at: t0 + 1,
      tags: [
        ['e', hello.id, 'wss://relay.example', 'reply'],
        ['p', bob.pk],
        ['client', 'ünïcode ✓ 🎉', 'with "quotes" and \\ backslash'],
      ],
      content: 'héllo ✓ 🎉 "quoted"\nnew line\ttab',
    }),
  )
  // Same created_at as the next one: order falls to the id.
  good('main', sign(bob, { kind: 1, created_at: t0 + 2, tags: [], content: 'tie a' }))
  good('main', sign(carol, { kind: 1, created_at: t0 + 2, tags: [], content: 'tie b' }), { publisher: alice.pk })
  // LNbits before 1.0 stripped what looked like HTML from every stored string.
  const html = sign(bob, { kind: 1, created_at: t0 + 3, tags: [], content: '<b>bold</b> &amp; more' })
  add('main', html, { stored: { content: 'bold  more' } })
  expected.refused.main[html.id] = 'bad-id'
  // A signature that belongs to another event.
  const forged = sign(carol, { kind: 1, created_at: t0 + 4, tags: [], content: 'forged' })
  add('main', forged, { stored: { sig: hello.sig } })
  expected.refused.main[forged.id] = 'bad-sig'
  // A re-sent event whose tags LNbits inserted twice.
  const twice = sign(alice, {
    kind: 1,
    created_at: t0 + 5,
    tags: [
      ['t', 'a'],
      ['t', 'a'],
      ['p', bob.pk],
    ],
    content: 'sent twice',
  })
  good('main', twice, { tagRows: [...twice.tags, ...twice.tags] })
  expected.repaired.main.push(twice.id)
  // Soft-deleted by LNbits: skipped.
  add('main', sign(alice, { kind: 1, created_at: t0 + 6, tags: [], content: 'soft deleted' }), { deleted: true })
  // Bob deletes his own note (LNbits had not marked it: the note reached it after the deletion).
  const doomed = sign(bob, { kind: 1, created_at: t0 + 7, tags: [], content: 'doomed' })
  add('main', doomed)
  expected.deletedByKind5.main.push(doomed.id)
  good('main', sign(bob, { kind: 5, created_at: t0 + 8, tags: [['e', doomed.id]], content: '' }))
  // Carol cannot delete Alice's note.
  good('main', sign(carol, { kind: 5, created_at: t0 + 9, tags: [['e', hello.id]], content: 'not mine' }))
  // Addressable: the version before the `a` deletion goes, the one after stays, another d stays.
  const before = sign(alice, { kind: 30023, created_at: t0 + 10, tags: [['d', 'post']], content: 'v1' })
  add('main', before)
  expected.deletedByKind5.main.push(before.id)
  good('main', sign(alice, { kind: 30023, created_at: t0 + 11, tags: [['d', 'other']], content: 'other' }))
  good('main', sign(alice, { kind: 5, created_at: t0 + 12, tags: [['a', `30023:${alice.pk}:post`]], content: '' }))
  good('main', sign(alice, { kind: 30023, created_at: t0 + 13, tags: [['d', 'post']], content: 'v2' }))
  // A contact list long enough to cross fetch batches.
  good(
    'main',
    sign(bob, {
      kind: 3,
      created_at: t0 + 14,
      tags: Array.from({ length: 40 }, (_, i) => ['p', newKey().pk, `wss://r${i}.example`]),
      content: '',
    }),
  )
  // Broken rows.
  const badPubkey = sign(carol, { kind: 1, created_at: t0 + 15, tags: [], content: 'x' })
  add('main', badPubkey, { stored: { pubkey: 'not-a-pubkey' } })
  expected.refused.main[badPubkey.id] = 'malformed'
  const badExtra = sign(carol, { kind: 1, created_at: t0 + 16, tags: [['e', hello.id, 'wss://x']], content: 'y' })
  add('main', badExtra, { brokenExtra: '["wss://x"' })
  expected.refused.main[badExtra.id] = 'malformed'

  // The same event on another relay: tags are keyed by relay too.
  good('camel', hello)
  good('camel', sign(bob, { kind: 0, created_at: t0 + 20, tags: [], content: '{"name":"bob"}' }))
  // Events of a relay that no longer exists.
  add('gone', sign(bob, { kind: 1, created_at: t0, tags: [], content: 'orphan 1' }))
  add('gone', sign(bob, { kind: 1, created_at: t0 + 1, tags: [], content: 'orphan 2' }))

  const relay = (id: string, meta: string, extra: Partial<RelayFixture> = {}): RelayFixture => ({
    user_id: 'u1',
    id,
    name: `relay ${id}`,
    description: null,
    pubkey: alice.pk,
    contact: null,
    active: true,
    meta,
    ...extra,
  })
  const fixture: LnbitsFixture = {
    relays: [
      relay(
        'main',
        JSON.stringify({
          max_client_filters: 5,
          limit_per_filter: 200,
          max_events_per_hour: 60,
          created_at_days_past: 1,
          created_at_minutes_future: 15,
          free_storage_value: 512,
          free_storage_unit: 'KB',
          full_storage_action: 'block',
          is_paid_relay: true,
          cost_to_join: 21,
          storage_cost_value: 100,
          storage_cost_unit: 'MB',
          wallet: 'wallet-id',
          domain: 'relay.example',
          require_auth_events: true,
          skiped_auth_events: [4],
          forced_auth_events: [],
          require_auth_filter: false,
        }),
        { description: 'the main relay', contact: 'ops@example' },
      ),
      relay('camel', JSON.stringify({ maxClientFilters: 2, limitPerFilter: 50, requireAuthFilter: true, forcedAuthEvents: [4, 1059], freeStorageValue: 0 }), {
        active: false,
      }),
      relay('bare', '{}'),
      relay('broken', '{"max_client_filters": 5,'),
      relay('a/b', '{}'),
    ],
    events,
    accounts: [
      { relay_id: 'main', pubkey: alice.pk, sats: 0, storage: 0, paid_to_join: false, allowed: true, blocked: false },
      { relay_id: 'main', pubkey: bob.pk, sats: 0, storage: 0, paid_to_join: false, allowed: false, blocked: true },
      { relay_id: 'main', pubkey: carol.pk, sats: 1000, storage: 2048, paid_to_join: true, allowed: false, blocked: false },
      { relay_id: 'main', pubkey: 'nope', sats: 0, storage: 0, paid_to_join: false, allowed: false, blocked: false },
      { relay_id: 'camel', pubkey: bob.pk, sats: 5, storage: 0, paid_to_join: true, allowed: false, blocked: false },
    ],
  }
  return { fixture, expected, keys: { alice, bob, carol } }
}
