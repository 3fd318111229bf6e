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
import { type ChildTxn, removeEvent, saveInTxn, usageOf, type Quota, type SaveResult, type StoreDbs, type Usage } from './write.ts'

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

/** Where a store's events live: named databases of its own, or a keyspace of the shared ones. */
type Place = { named: [Database<string, string>, Database<number, IndexKey>, Database<unknown, IndexKey>] } | { ks: number; shared: SharedDbs }

function openNamed(root: RootDatabase, ns: string): { dbs: StoreDbs; place: Place } {
  const events = root.openDB<string, string>({ name: `${ns}events`, encoding: 'string' })
  const index = root.openDB<number, IndexKey>({ name: `${ns}index` })
  const meta = root.openDB<unknown, IndexKey>({ name: `${ns}meta` })
  return { dbs: { events, index, meta }, place: { named: [events, index, meta] } }
}

type Wide = Array<string | number>
interface SharedDbs {
  events: Database<string, Wide>
  index: Database<number, Wide>
  meta: Database<unknown, Wide>
}

/** One handle per database and environment: lmdb-js makes a new one (~5 KB) at every openDB. */
const shared = new WeakMap<RootDatabase, SharedDbs>()

function sharedDbs(root: RootDatabase): SharedDbs {
  let dbs = shared.get(root)
  if (!dbs) {
    dbs = {
      events: root.openDB<string, Wide>({ name: `${SHARED}events`, encoding: 'string' }),
      index: root.openDB<number, Wide>({ name: `${SHARED}index` }),
      meta: root.openDB<unknown, Wide>({ name: `${SHARED}meta` }),
    }
    shared.set(root, dbs)
  }
  return dbs
}

function openKeyspace(root: RootDatabase, ks: number): { dbs: StoreDbs; place: Place } {
  if (!Number.isSafeInteger(ks) || ks <= 0) throw new Error(`keyspace must be a positive integer, got ${ks}`)
  const s = sharedDbs(root)
  return {
    dbs: { events: prefixedTable(s.events, ks, stringKeys), index: prefixedTable(s.index, ks, arrayKeys), meta: prefixedTable(s.meta, ks, arrayKeys) },
    place: { ks, shared: s },
  }
}

export function openStore(root: RootDatabase, opts: StoreOptions = {}): EventStore {
  const { dbs, place } = opts.keyspace !== undefined ? openKeyspace(root, opts.keyspace) : openNamed(root, opts.namespace ?? '')
  if (dbs.meta.get(layoutKey) !== LAYOUT) reindex(root, dbs)
  return new LmdbStore(root, dbs, place, opts.quota)
}

const usable = (x: Quota | undefined): Quota | undefined => (x && (x.bytes > 0 || x.events > 0) ? x : undefined)

/**
 * A class, so that a thousand relays' stores share their methods (closures made per store cost
 * ~150 bytes each under tsx's keepNames).
 */
class LmdbStore implements EventStore {
  readonly reads: ReadStats = { bodies: 0 }
  /** A child transaction inside the batched write transaction: the over-quota path may roll back. */
  readonly child: ChildTxn

  constructor(
    readonly root: RootDatabase,
    readonly dbs: StoreDbs,
    readonly place: Place,
    readonly quota: Quota | QuotaFor | undefined,
  ) {
    this.child = (fn) => void root.transactionSync(fn)
  }

  quotaOf(pubkey: string): Quota | undefined {
    return usable(typeof this.quota === 'function' ? this.quota(pubkey) : this.quota)
  }

  has(id: string): boolean {
    return this.dbs.events.doesExist(id)
  }

  save(event: NostrEvent, json: string): Promise<SaveResult> {
    const quota = this.quotaOf(event.pubkey)
    return this.root.transaction(() => saveInTxn(this.dbs, event, json, quota, this.child))
  }

  cursor(req: CursorRequest): Cursor {
    return openCursor(this.dbs, req.filters, { now: req.now, scanBudget: req.scanBudget, count: req.count }, this.reads)
  }

  async purgeExpired(now: number): Promise<number> {
    const range = { start: ['exp', 0], end: ['exp', now + 1] }
    // A read first: most stores have nothing due, and a thousand relays need not open a write each minute.
    for (const _ of this.dbs.meta.getKeys({ ...range, limit: 1 })) return this.root.transaction(() => purgeDue(this.dbs, range))
    return 0
  }

  usage(pubkey: string): Usage {
    return usageOf(this.dbs, pubkey)
  }

  remove(ids: string[]): Promise<string[]> {
    return this.root.transaction(() => {
      const removed: string[] = []
      for (const id of ids) {
        const json = this.dbs.events.get(id)
        if (json === undefined) continue
        removeEvent(this.dbs, JSON.parse(json) as NostrEvent, json)
        removed.push(id)
      }
      return removed
    })
  }

  async drop(): Promise<void> {
    const p = this.place
    if ('named' in p)
      return this.root.transaction(() => {
        for (const db of p.named) db.clearSync()
      })
    for (const db of [p.shared.events, p.shared.index, p.shared.meta]) await dropNamespace(this.root, db as Database<unknown, Wide>, p.ks)
  }

  get size(): number {
    const p = this.place
    if ('named' in p) return (p.named[0].getStats() as { entryCount: number }).entryCount
    return p.shared.events.getKeysCount({ start: [p.ks], end: [p.ks + 1] })
  }
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
