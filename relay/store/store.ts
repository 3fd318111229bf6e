// The event store: one namespace of an LMDB environment. Several relays (and the bunker's own
// state) share one environment: the default relay under its own named databases, every other relay
// under a numeric key prefix of one shared set (table.ts).
import { open, type Database, type RootDatabase } from 'lmdb'
import type { NostrEvent } from '../event.ts'
import type { NormFilter } from '../filter.ts'
import { expiryKey, LAYOUT, layoutKey, type IndexKey } from './keys.ts'
import { openCursor, type Cursor, type Found, type ReadStats } from './query.ts'
import { reindex } from './reindex.ts'
import { arrayKeys, dropNamespace, prefixedTable, stringKeys } from './table.ts'
import { removeEvent, saveInTxn, usageOf, type Quota, type SaveResult, type StoreDbs, type Usage } from './write.ts'

export type { Cursor, Found, Quota, SaveResult, Usage }

export interface CursorRequest {
  filters: Array<{ filter: NormFilter; limit: number }>
  now: number
  /** Most index entries one filter may examine. */
  scanBudget: number
  /** Decide matches from the index; found entries carry no JSON. */
  count?: boolean
}

export interface EventStore {
  has(id: string): boolean
  /** Resolves once the write is committed and flushed to disk. */
  save(event: NostrEvent, json: string): Promise<SaveResult>
  /** Matches in NIP-01 order, read in bounded steps (query.ts). */
  cursor(req: CursorRequest): Cursor
  /** Deletes events whose NIP-40 expiration has passed; returns how many. */
  purgeExpired(now: number): Promise<number>
  /** Bytes of event JSON and events stored for an author. */
  usage(pubkey: string): Usage
  /** Deletes these events (an operator's ban, not NIP-09: no tombstone); resolves with the ids that were held. */
  remove(ids: string[]): Promise<string[]>
  /** Deletes everything this store holds, in batches. */
  drop(): Promise<void>
  readonly size: number
  /** Event bodies read by cursors so far. */
  readonly reads: ReadStats
}

/** Opens the LMDB environment (a directory). Commits are durable: fsync'd before they resolve. */
export function openEnvironment(path: string): RootDatabase {
  return open({ path, maxDbs: 512, compression: false, mapSize: 64 * 1024 ** 3 })
}

/** The quota of one author, read at each save (so it may follow live settings and per-account purchases). */
export type QuotaFor = (pubkey: string) => Quota | undefined

export interface StoreOptions {
  /** Prefix of the named databases; "" for the default relay. */
  namespace?: string
  /**
   * Keep the events in the shared databases under this key prefix instead of named databases of
   * their own (a positive integer, never reused for another relay).
   */
  keyspace?: number
  /** Per-author storage bound, fixed or per author; none when absent. */
  quota?: Quota | QuotaFor
}

/** The shared databases every keyspace store lives in. */
const SHARED = 'ks:'

interface Opened {
  dbs: StoreDbs
  size(): number
  drop(): Promise<void>
}

function openNamed(root: RootDatabase, ns: string): Opened {
  const events = root.openDB<string, string>({ name: `${ns}events`, encoding: 'string' })
  const index = root.openDB<number, IndexKey>({ name: `${ns}index` })
  const meta = root.openDB<unknown, IndexKey>({ name: `${ns}meta` })
  return {
    dbs: { events, index, meta },
    size: () => (events.getStats() as { entryCount: number }).entryCount,
    drop: () =>
      root.transaction(() => {
        for (const db of [events, index, meta]) db.clearSync()
      }),
  }
}

function openKeyspace(root: RootDatabase, ks: number): Opened {
  if (!Number.isSafeInteger(ks) || ks <= 0) throw new Error(`keyspace must be a positive integer, got ${ks}`)
  type Shared = Database<unknown, Array<string | number>>
  const events = root.openDB<string, Array<string | number>>({ name: `${SHARED}events`, encoding: 'string' })
  const index = root.openDB<number, Array<string | number>>({ name: `${SHARED}index` })
  const meta = root.openDB<unknown, Array<string | number>>({ name: `${SHARED}meta` })
  return {
    dbs: { events: prefixedTable(events, ks, stringKeys), index: prefixedTable(index, ks, arrayKeys), meta: prefixedTable(meta, ks, arrayKeys) },
    size: () => events.getKeysCount({ start: [ks], end: [ks + 1] }),
    async drop() {
      for (const db of [events, index, meta]) await dropNamespace(root, db as Shared, ks)
    },
  }
}

export function openStore(root: RootDatabase, opts: StoreOptions = {}): EventStore {
  const opened = opts.keyspace !== undefined ? openKeyspace(root, opts.keyspace) : openNamed(root, opts.namespace ?? '')
  const { dbs } = opened
  if (dbs.meta.get(layoutKey) !== LAYOUT) reindex(root, dbs)
  const quotaOf = quotaResolver(opts.quota)
  // A child transaction inside the batched write transaction: the over-quota path may roll back.
  const child = (fn: () => unknown) => void root.transactionSync(fn)
  const reads: ReadStats = { bodies: 0 }

  return {
    has: (id) => dbs.events.doesExist(id),
    save: (event, json) => {
      const quota = quotaOf(event.pubkey)
      return root.transaction(() => saveInTxn(dbs, event, json, quota, child))
    },
    cursor: (req) => openCursor(dbs, req.filters, { now: req.now, scanBudget: req.scanBudget, count: req.count }, reads),
    async purgeExpired(now) {
      const range = { start: ['exp', 0], end: ['exp', now + 1] }
      // A read first: most stores have nothing due, and a thousand relays need not open a write each minute.
      for (const _ of dbs.meta.getKeys({ ...range, limit: 1 })) return root.transaction(() => purgeDue(dbs, range))
      return 0
    },
    usage: (pubkey) => usageOf(dbs, pubkey),
    remove: (ids) =>
      root.transaction(() => {
        const removed: string[] = []
        for (const id of ids) {
          const json = dbs.events.get(id)
          if (json === undefined) continue
          removeEvent(dbs, JSON.parse(json) as NostrEvent, json)
          removed.push(id)
        }
        return removed
      }),
    drop: () => opened.drop(),
    get size() {
      return opened.size()
    },
    reads,
  }
}

function quotaResolver(q: Quota | QuotaFor | undefined): QuotaFor {
  const usable = (x: Quota | undefined) => (x && (x.bytes > 0 || x.events > 0) ? x : undefined)
  if (typeof q === 'function') return (pubkey) => usable(q(pubkey))
  const fixed = usable(q)
  return () => fixed
}

function purgeDue(dbs: StoreDbs, range: { start: IndexKey; end: IndexKey }): number {
  let n = 0
  // Collected first: the range is not walked while it is being modified.
  const due = [...dbs.meta.getKeys(range)]
  for (const key of due) {
    const id = key[2] as string
    const json = dbs.events.get(id)
    if (json !== undefined) removeEvent(dbs, JSON.parse(json) as NostrEvent, json)
    dbs.meta.removeSync(expiryKey(key[1] as number, id))
    n++
  }
  return n
}
