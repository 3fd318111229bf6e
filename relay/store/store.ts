// The event store: one namespace of an LMDB environment. Several relays (and the bunker's own
// state) share one environment, each under its own named databases.
import { open, type RootDatabase } from 'lmdb'
import type { NostrEvent } from '../event.ts'
import type { NormFilter } from '../filter.ts'
import { expiryKey, LAYOUT, layoutKey, type IndexKey } from './keys.ts'
import { openCursor, type Cursor, type Found, type ReadStats } from './query.ts'
import { reindex } from './reindex.ts'
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
  readonly size: number
  /** Event bodies read by cursors so far. */
  readonly reads: ReadStats
}

/** Opens the LMDB environment (a directory). Commits are durable: fsync'd before they resolve. */
export function openEnvironment(path: string): RootDatabase {
  return open({ path, maxDbs: 512, compression: false, mapSize: 64 * 1024 ** 3 })
}

export interface StoreOptions {
  /** Prefix of the named databases; "" for the default relay. */
  namespace?: string
  /** Per-author storage bound; none when absent. */
  quota?: Quota
}

export function openStore(root: RootDatabase, opts: StoreOptions = {}): EventStore {
  const ns = opts.namespace ?? ''
  const dbs: StoreDbs = {
    events: root.openDB<string, string>({ name: `${ns}events`, encoding: 'string' }),
    index: root.openDB<number, IndexKey>({ name: `${ns}index` }),
    meta: root.openDB<unknown, IndexKey>({ name: `${ns}meta` }),
  }
  if (dbs.meta.get(layoutKey) !== LAYOUT) reindex(root, dbs)
  const quota = opts.quota && (opts.quota.bytes > 0 || opts.quota.events > 0) ? opts.quota : undefined
  // A child transaction inside the batched write transaction: the over-quota path may roll back.
  const child = (fn: () => unknown) => void root.transactionSync(fn)
  const reads: ReadStats = { bodies: 0 }

  return {
    has: (id) => dbs.events.doesExist(id),
    save: (event, json) => root.transaction(() => saveInTxn(dbs, event, json, quota, child)),
    cursor: (req) => openCursor(dbs, req.filters, { now: req.now, scanBudget: req.scanBudget, count: req.count }, reads),
    purgeExpired: (now) =>
      root.transaction(() => {
        let n = 0
        // Collected first: the range is not walked while it is being modified.
        const due = [...dbs.meta.getKeys({ start: ['exp', 0], end: ['exp', now + 1] })]
        for (const key of due) {
          const id = key[2] as string
          const json = dbs.events.get(id)
          if (json !== undefined) removeEvent(dbs, JSON.parse(json) as NostrEvent, json)
          dbs.meta.removeSync(expiryKey(key[1] as number, id))
          n++
        }
        return n
      }),
    usage: (pubkey) => usageOf(dbs, pubkey),
    get size() {
      return (dbs.events.getStats() as { entryCount: number }).entryCount
    },
    reads,
  }
}
