// What the store needs of a named database, and a view of one key range of a shared database as if
// it were a database of its own. The default relay keeps its own named databases (an lmdb Database
// is a Table as it is); every other relay lives in one shared set under a numeric key prefix, so a
// thousand relays cost no named databases at all (LMDB's maxDbs would cap them otherwise, and every
// transaction pays per named database opened).
import type { Database } from 'lmdb'

export interface TableRange<K> {
  start?: K
  end?: K
  reverse?: boolean
  limit?: number
  exclusiveStart?: boolean
}

export interface Table<V, K> {
  get(key: K): V | undefined
  doesExist(key: K): boolean
  putSync(key: K, value: V): unknown
  removeSync(key: K): unknown
  getRange(range: TableRange<K>): Iterable<{ key: K; value: V }>
  getKeys(range: TableRange<K>): Iterable<K>
  clearSync(): void
}

type Wrapped = Array<string | number>

/** Keys of a shared database: the namespace number, then the view's own key. */
interface KeyCodec<K> {
  wrap(ns: number, key: K): Wrapped
  unwrap(key: Wrapped): K
}

export const arrayKeys: KeyCodec<Array<string | number>> = {
  wrap: (ns, key) => [ns, ...key],
  unwrap: (key) => key.slice(1),
}

export const stringKeys: KeyCodec<string> = {
  wrap: (ns, key) => [ns, key],
  unwrap: (key) => key[1] as string,
}

const CLEAR_BATCH = 2000

/**
 * The keys [ns, ...] of `db` as a table. Range bounds left open stay inside the namespace: every key
 * of namespace ns sorts after [ns] and before [ns + 1]. A class, so that a thousand relays share its
 * methods: closures made per table cost ~150 bytes each under tsx (keepNames).
 */
class PrefixedTable<V, K> implements Table<V, K> {
  readonly low: Wrapped
  readonly high: Wrapped
  constructor(
    readonly db: Database<V, Wrapped>,
    readonly ns: number,
    readonly codec: KeyCodec<K>,
  ) {
    this.low = [ns]
    this.high = [ns + 1]
  }

  key(key: K): Wrapped {
    return this.codec.wrap(this.ns, key)
  }

  range(r: TableRange<K>): TableRange<Wrapped> {
    return {
      ...r,
      start: r.start !== undefined ? this.key(r.start) : r.reverse ? this.high : this.low,
      end: r.end !== undefined ? this.key(r.end) : r.reverse ? this.low : this.high,
    }
  }

  get(key: K): V | undefined {
    return this.db.get(this.key(key))
  }
  doesExist(key: K): boolean {
    return this.db.doesExist(this.key(key))
  }
  putSync(key: K, value: V): unknown {
    return this.db.putSync(this.key(key), value)
  }
  removeSync(key: K): unknown {
    return this.db.removeSync(this.key(key))
  }
  getRange(r: TableRange<K>): Iterable<{ key: K; value: V }> {
    const codec = this.codec
    return this.db.getRange(this.range(r)).map(({ key, value }) => ({ key: codec.unwrap(key), value }))
  }
  getKeys(r: TableRange<K>): Iterable<K> {
    const codec = this.codec
    return this.db.getKeys(this.range(r)).map((key) => codec.unwrap(key))
  }
  clearSync(): void {
    // inside the caller's write transaction; collected first: a range is not walked while it changes
    for (;;) {
      const keys = [...this.db.getKeys({ start: this.low, end: this.high, limit: CLEAR_BATCH })]
      for (const key of keys) this.db.removeSync(key)
      if (keys.length < CLEAR_BATCH) return
    }
  }
}

export const prefixedTable = <V, K>(db: Database<V, Wrapped>, ns: number, codec: KeyCodec<K>): Table<V, K> => new PrefixedTable(db, ns, codec)

/** Removes every key of namespace `ns` from `db`, a batch per transaction: a large relay never holds one huge commit. */
export async function dropNamespace(root: { transaction<T>(fn: () => T): Promise<T> }, db: Database<unknown, Wrapped>, ns: number): Promise<number> {
  let n = 0
  for (;;) {
    const removed = await root.transaction(() => {
      const keys = [...db.getKeys({ start: [ns], end: [ns + 1], limit: CLEAR_BATCH })]
      for (const key of keys) db.removeSync(key)
      return keys.length
    })
    n += removed
    if (removed < CLEAR_BATCH) return n
  }
}
