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

/**
 * Most index keys (an id, an author, a tag value) are wanted by one entry: it is kept bare, and only
 * a key shared by several entries gets a Set. An abusive REQ's unique values then cost a map slot
 * each, not a map slot and a Set.
 */
type Slot = Entry | Set<Entry>
type Bucket = Map<string | number, Slot>

export interface DispatchTable {
  add(filters: NormFilter[], sink: Sink): Subscription
  remove(sub: Subscription): void
  /**
   * Delivers the event to every matching subscription once. A sink may dispatch in turn (the bunker
   * answers from inside its sink): that event is delivered as soon as this one is done, in order.
   */
  dispatch(event: NostrEvent, json: string): void
  readonly size: number
  /** Index entries held: one per value a filter is filed under (one for a catch-all filter). */
  readonly entries: number
}

/**
 * Each filter is filed under one key, its most selective field: ids, then authors, then its first
 * tag, then kinds; a filter with none of these is filed under `all`. An event then looks up only the
 * buckets its own id, pubkey, tags and kind point at, and every candidate is matched exactly.
 * Where an entry was filed follows from its filter alone, so remove() files it out the same way and
 * nothing else is kept per value.
 */
export function createDispatchTable(onSinkError: (err: unknown) => void = () => {}): DispatchTable {
  const byId: Bucket = new Map()
  const byAuthor: Bucket = new Map()
  const byTag: Bucket = new Map()
  const byKind: Bucket = new Map()
  const all = new Set<Entry>()
  const placed = new Map<Subscription, Entry[]>()
  let seq = 0
  // Events dispatched from inside a sink wait here: delivering them at once would reuse lastSeq
  // mid-delivery and could hand the outer event to a subscription twice.
  const nested: Array<[NostrEvent, string]> = []
  let delivering = false
  let entries = 0

  function file(bucket: Bucket, key: string | number, entry: Entry): void {
    const slot = bucket.get(key)
    if (slot === undefined) bucket.set(key, entry)
    else if (slot instanceof Set) slot.add(entry)
    else bucket.set(key, new Set([slot, entry]))
    entries++
  }

  function unfile(bucket: Bucket, key: string | number, entry: Entry): void {
    const slot = bucket.get(key)
    if (slot === entry) bucket.delete(key)
    else if (slot instanceof Set && slot.delete(entry)) {
      if (slot.size === 1) bucket.set(key, slot.values().next().value as Entry)
    } else return
    entries--
  }

  /** Files the entry in (`act` = file) or out (`act` = unfile) under every key of its filter. */
  function place(entry: Entry, act: typeof file): void {
    const f = entry.filter
    if (f.ids) for (const id of f.ids) act(byId, id, entry)
    else if (f.authors) for (const a of f.authors) act(byAuthor, a, entry)
    else if (f.tags) {
      const [letter, values] = f.tags.entries().next().value as [string, Set<string>]
      for (const v of values) act(byTag, letter + v, entry)
    } else if (f.kinds) for (const k of f.kinds) act(byKind, k, entry)
    else if (act === file) {
      all.add(entry)
      entries++
    } else if (all.delete(entry)) entries--
  }

  function offerOne({ sub, filter }: Entry, event: NostrEvent, json: string, stamp: number): void {
    if (sub.lastSeq === stamp || !matchFilter(filter, event)) return
    sub.lastSeq = stamp
    try {
      sub.sink(event, json)
    } catch (err) {
      onSinkError(err) // one faulty sink must not starve the others
    }
  }

  function offer(slot: Slot | undefined, event: NostrEvent, json: string, stamp: number): void {
    if (slot === undefined) return
    if (slot instanceof Set) for (const entry of slot) offerOne(entry, event, json, stamp)
    else offerOne(slot, event, json, stamp)
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
      const mine: Entry[] = []
      for (const filter of filters) if (!isEmptyFilter(filter)) mine.push({ sub, filter })
      for (const entry of mine) place(entry, file)
      placed.set(sub, mine)
      return sub
    },
    remove(sub) {
      const mine = placed.get(sub)
      if (!mine) return
      placed.delete(sub)
      for (const entry of mine) place(entry, unfile)
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
      return placed.size
    },
    get entries() {
      return entries
    },
  }
}
