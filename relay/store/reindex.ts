// Rebuilds the derived parts of a store (index entries, per-author usage) from the events
// themselves, when a store written with an older layout is opened. Runs at open, before any query.
import type { RootDatabase } from 'lmdb'
import type { NostrEvent } from '../event.ts'
import { LAYOUT, layoutKey, usageKey } from './keys.ts'
import { insertEvent, type StoreDbs } from './write.ts'

const BATCH = 5000

export function reindex(root: RootDatabase, dbs: StoreDbs): void {
  root.transactionSync(() => {
    dbs.index.clearSync()
    for (const key of [...dbs.meta.getKeys({ start: usageKey(''), end: ['v'] })]) dbs.meta.removeSync(key)
  })
  let start: string | undefined
  for (;;) {
    const batch = [...dbs.events.getRange({ start, exclusiveStart: start !== undefined, limit: BATCH })]
    if (batch.length === 0) break
    root.transactionSync(() => {
      // insertEvent rewrites the body too: the same bytes, and one write path.
      for (const { value } of batch) insertEvent(dbs, JSON.parse(value) as NostrEvent, value)
    })
    start = batch[batch.length - 1].key
  }
  root.transactionSync(() => dbs.meta.putSync(layoutKey, LAYOUT))
}
