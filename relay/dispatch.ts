// The dispatch table: every live subscription, remote (a client's REQ) or in-process (a plugin's
// sink), in one index. add() and remove() are synchronous, so once add() returns, the next event
// dispatched that matches reaches the sink. This is the property the bunker's race-freedom rests on.
import type { NostrEvent } from './event.ts'
import { isEmptyFilter, matchFilter, type NormFilter } from './filter.ts'

/** Receives a matching event with its canonical JSON text (sent as is to sockets). */
export type Sink = (event: NostrEvent, json: string) => void

export interface Subscription {
  readonly filters: NormFilter[]
  readonly sink: Sink
  /** The dispatch sequence number this subscription last received, to deliver at most once. */
  lastSeq: number
}

interface Entry {
  sub: Subscription
  filter: NormFilter
}

type Bucket = Map<string | number, Set<Entry>>
/** Where one entry was filed, so remove() can undo exactly that. */
type Placement = [set: Set<Entry>, entry: Entry, bucket: Bucket | undefined, key: string | number]

export interface DispatchTable {
  add(filters: NormFilter[], sink: Sink): Subscription
  remove(sub: Subscription): void
  /**
   * Delivers the event to every matching subscription once. A sink may dispatch in turn (the bunker
   * answers from inside its sink): that event is delivered as soon as this one is done, in order.
   */
  dispatch(event: NostrEvent, json: string): void
  readonly size: number
}

/**
 * Each filter is filed under one key, its most selective field: ids, then authors, then its first
 * tag, then kinds; a filter with none of these is filed under `all`. An event then looks up only the
 * buckets its own id, pubkey, tags and kind point at, and every candidate is matched exactly.
 */
export function createDispatchTable(onSinkError: (err: unknown) => void = () => {}): DispatchTable {
  const byId: Bucket = new Map()
  const byAuthor: Bucket = new Map()
  const byTag: Bucket = new Map()
  const byKind: Bucket = new Map()
  const all = new Set<Entry>()
  const placed = new Map<Subscription, Placement[]>()
  let seq = 0
  // Events dispatched from inside a sink wait here: delivering them at once would reuse lastSeq
  // mid-delivery and could hand the outer event to a subscription twice.
  const nested: Array<[NostrEvent, string]> = []
  let delivering = false
  let count = 0

  function file(bucket: Bucket, key: string | number, entry: Entry, out: Placement[]) {
    let set = bucket.get(key)
    if (!set) bucket.set(key, (set = new Set()))
    set.add(entry)
    out.push([set, entry, bucket, key])
  }

  function place(entry: Entry, out: Placement[]) {
    const f = entry.filter
    if (f.ids) for (const id of f.ids) file(byId, id, entry, out)
    else if (f.authors) for (const a of f.authors) file(byAuthor, a, entry, out)
    else if (f.tags) {
      const [letter, values] = f.tags.entries().next().value as [string, Set<string>]
      for (const v of values) file(byTag, letter + v, entry, out)
    } else if (f.kinds) for (const k of f.kinds) file(byKind, k, entry, out)
    else {
      all.add(entry)
      out.push([all, entry, undefined, ''])
    }
  }

  function offer(set: Set<Entry> | undefined, event: NostrEvent, json: string, stamp: number): void {
    if (!set) return
    for (const { sub, filter } of set) {
      if (sub.lastSeq === stamp || !matchFilter(filter, event)) continue
      sub.lastSeq = stamp
      try {
        sub.sink(event, json)
      } catch (err) {
        onSinkError(err) // one faulty sink must not starve the others
      }
    }
  }

  function deliver(event: NostrEvent, json: string): void {
    const stamp = ++seq
    offer(all, event, json, stamp)
    offer(byId.get(event.id), event, json, stamp)
    offer(byAuthor.get(event.pubkey), event, json, stamp)
    offer(byKind.get(event.kind), event, json, stamp)
    if (byTag.size > 0)
      for (const tag of event.tags) {
        if (tag.length > 1 && tag[0].length === 1) offer(byTag.get(tag[0] + tag[1]), event, json, stamp)
      }
  }

  return {
    add(filters, sink) {
      const sub: Subscription = { filters, sink, lastSeq: 0 }
      const out: Placement[] = []
      for (const filter of filters) if (!isEmptyFilter(filter)) place({ sub, filter }, out)
      placed.set(sub, out)
      count++
      return sub
    },
    remove(sub) {
      const out = placed.get(sub)
      if (!out) return
      placed.delete(sub)
      count--
      for (const [set, entry, bucket, key] of out) {
        set.delete(entry)
        if (bucket && set.size === 0) bucket.delete(key)
      }
    },
    dispatch(event, json) {
      if (delivering) return void nested.push([event, json])
      delivering = true
      try {
        deliver(event, json)
        for (let i = 0; i < nested.length; i++) deliver(nested[i][0], nested[i][1])
      } finally {
        nested.length = 0
        delivering = false
      }
    },
    get size() {
      return count
    },
  }
}
