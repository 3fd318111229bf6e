// The event store: one namespace of an LMDB environment. Several relays (and the bunker's own
// state) share one environment, each under its own named databases.
import { open, type RootDatabase } from 'lmdb'
import type { NostrEvent } from '../event.ts'
import type { NormFilter } from '../filter.ts'
import { expiryKey, type IndexKey } from './keys.ts'
import { queryFilters, type Found } from './query.ts'
import { removeEvent, saveInTxn, type SaveResult, type StoreDbs } from './write.ts'

export type { Found, SaveResult }

export interface EventStore {
  has(id: string): boolean
  /** Resolves once the write is committed and flushed to disk. */
  save(event: NostrEvent, json: string): Promise<SaveResult>
  query(filters: Array<{ filter: NormFilter; limit: number }>, now: number): Found[]
  count(filters: NormFilter[], now: number, max: number): number
  /** Deletes events whose NIP-40 expiration has passed; returns how many. */
  purgeExpired(now: number): Promise<number>
  readonly size: number
}

/** Opens the LMDB environment (a directory). Commits are durable: fsync'd before they resolve. */
export function openEnvironment(path: string): RootDatabase {
  return open({ path, maxDbs: 512, compression: false, mapSize: 64 * 1024 ** 3 })
}

export interface StoreOptions {
  /** Prefix of the named databases; "" for the default relay. */
  namespace?: string
  scanBudget?: number
}

export function openStore(root: RootDatabase, opts: StoreOptions = {}): EventStore {
  const ns = opts.namespace ?? ''
  const dbs: StoreDbs = {
    events: root.openDB<string, string>({ name: `${ns}events`, encoding: 'string' }),
    index: root.openDB<number, IndexKey>({ name: `${ns}index` }),
    meta: root.openDB<unknown, IndexKey>({ name: `${ns}meta` }),
  }
  const scanBudget = opts.scanBudget ?? 200_000

  return {
    has: (id) => dbs.events.doesExist(id),
    save: (event, json) => root.transaction(() => saveInTxn(dbs, event, json)),
    query: (filters, now) => queryFilters(dbs, filters, { now, scanBudget }),
    count(filters, now, max) {
      return queryFilters(
        dbs,
        filters.map((filter) => ({ filter, limit: Math.min(filter.limit ?? max, max) })),
        { now, scanBudget },
      ).length
    },
    purgeExpired: (now) =>
      root.transaction(() => {
        let n = 0
        // Collected first: the range is not walked while it is being modified.
        const due = [...dbs.meta.getKeys({ start: ['exp', 0], end: ['exp', now + 1] })]
        for (const key of due) {
          const id = key[2] as string
          const json = dbs.events.get(id)
          if (json !== undefined) removeEvent(dbs, JSON.parse(json) as NostrEvent)
          dbs.meta.removeSync(expiryKey(key[1] as number, id))
          n++
        }
        return n
      }),
    get size() {
      return (dbs.events.getStats() as { entryCount: number }).entryCount
    },
  }
}
