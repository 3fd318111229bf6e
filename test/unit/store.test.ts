// The LMDB store on a real environment: cursors against a naive reference (order, ties, limits per
// filter, merging, expiry) read in tiny chunks and steps, COUNT from the indexes alone, and the
// per-author usage and quota kept in the write transactions.
import { describe, expect, test } from 'vitest'
import type { NostrEvent } from '../../relay/event.ts'
import { matchFilter, normaliseFilter, type Filter, type NormFilter } from '../../relay/filter.ts'
import { openCursor } from '../../relay/store/query.ts'
import { openEnvironment, openStore, type EventStore, type Quota } from '../../relay/store/store.ts'
import type { StoreDbs } from '../../relay/store/write.ts'
import { tempDir } from '../helpers/server.ts'

function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (r: () => number, n = 64) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('')
const pick = <T>(r: () => number, a: T[]): T => a[Math.floor(r() * a.length)]
const some = <T>(r: () => number, a: T[]): T[] => a.filter(() => r() < 0.4).concat(pick(r, a))
const NOW = 1_700_000_000

function event(r: () => number, authors: string[], over: Partial<NostrEvent> = {}): NostrEvent {
  const tags: string[][] = []
  if (r() < 0.6) tags.push(['t', pick(r, ['a', 'b', 'c', 'd'])])
  if (r() < 0.3) tags.push(['t', pick(r, ['a', 'b', 'c', 'd'])])
  if (r() < 0.5) tags.push(['p', pick(r, authors)])
  if (r() < 0.1) tags.push(['expiration', String(r() < 0.5 ? NOW - 10 : NOW + 1000)])
  return {
    id: hex(r),
    pubkey: pick(r, authors),
    created_at: NOW - 100 + Math.floor(r() * 25), // many ties
    kind: pick(r, [1, 6, 7]),
    tags,
    content: `x${r()}`,
    sig: hex(r, 128),
    ...over,
  }
}

const norm = (f: Filter): NormFilter => {
  const n = normaliseFilter(f)
  if (typeof n === 'string') throw new Error(n)
  return n
}

const order = (a: NostrEvent, b: NostrEvent) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)
const expired = (e: NostrEvent) => e.tags.some((t) => t[0] === 'expiration' && Number(t[1]) <= NOW)

function reference(events: NostrEvent[], filters: Array<{ filter: NormFilter; limit: number }>): string[] {
  const out = new Map<string, NostrEvent>()
  for (const { filter, limit } of filters)
    for (const e of events
      .filter((e) => matchFilter(filter, e) && !expired(e))
      .sort(order)
      .slice(0, limit))
      out.set(e.id, e)
  return [...out.values()].sort(order).map((e) => e.id)
}

function storeDbs(dir: string) {
  const env = openEnvironment(dir)
  const store = openStore(env)
  const dbs: StoreDbs = {
    events: env.openDB<string, string>({ name: 'events', encoding: 'string' }),
    index: env.openDB({ name: 'index' }),
    meta: env.openDB({ name: 'meta' }),
  }
  return { env, store, dbs }
}

async function saveAll(store: EventStore, events: NostrEvent[]): Promise<void> {
  const results = await Promise.all(events.map((e) => store.save(e, JSON.stringify(e))))
  for (const r of results) expect(r.ok).toBe(true)
}

describe('store cursors', () => {
  test('match a naive reference in NIP-01 order, read in tiny chunks and steps', async () => {
    const r = rng(7)
    const authors = Array.from({ length: 5 }, () => hex(r))
    const events = Array.from({ length: 400 }, () => event(r, authors))
    const { env, store, dbs } = storeDbs(tempDir())
    await saveAll(store, events)
    for (let q = 0; q < 300; q++) {
      const filters = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
        const f: Filter = {}
        if (r() < 0.4) f.authors = some(r, authors)
        if (r() < 0.4) f.kinds = some(r, [1, 6, 7])
        if (r() < 0.4) f['#t'] = some(r, ['a', 'b', 'c', 'd'])
        if (r() < 0.2) f['#p'] = some(r, authors)
        if (r() < 0.2) f.since = NOW - 100 + Math.floor(r() * 25)
        if (r() < 0.2) f.until = NOW - 100 + Math.floor(r() * 25)
        if (r() < 0.1) f.ids = [pick(r, events).id, pick(r, events).id, hex(r)]
        return { filter: norm(f), limit: r() < 0.2 ? 1000 : 1 + Math.floor(r() * 40) }
      })
      const want = reference(events, filters)
      for (const readAhead of [1024, 3]) {
        const c = openCursor(dbs, filters, { now: NOW, scanBudget: 1e9, readAhead }, { bodies: 0 })
        const got: string[] = []
        for (let step = 0; step < 1e5; step++) {
          const x = c.next(readAhead === 3 ? 2 : 1e9)
          if (x === 'done') break
          if (x !== 'busy') got.push(x.id)
        }
        expect(got, JSON.stringify({ q, readAhead })).toEqual(want)
      }
      const counted = openCursor(
        dbs,
        filters.map(({ filter }) => ({ filter, limit: Number.POSITIVE_INFINITY })),
        { now: NOW, scanBudget: 1e9, count: true },
        { bodies: 0 },
      )
      let n = 0
      while (counted.next(1e9) !== 'done') n++
      expect(n).toBe(
        reference(
          events,
          filters.map(({ filter }) => ({ filter, limit: Number.POSITIVE_INFINITY })),
        ).length,
      )
    }
    await env.close()
  })

  test('COUNT reads no event body, whatever the filter shape the index can decide', async () => {
    const r = rng(11)
    const authors = Array.from({ length: 3 }, () => hex(r))
    const { env, store } = storeDbs(tempDir())
    await saveAll(
      store,
      Array.from({ length: 600 }, () => event(r, authors)),
    )
    const shapes: Filter[] = [
      { authors: [authors[0]] },
      { authors: authors, kinds: [7] },
      { kinds: [1], '#t': ['a', 'b'] },
      { '#t': ['a'], '#p': [authors[1]] },
      { authors: [authors[2]], '#t': ['c'], since: NOW - 90 },
      {},
    ]
    const before = store.reads.bodies
    for (const f of shapes) {
      const c = store.cursor({ filters: [{ filter: norm(f), limit: Number.POSITIVE_INFINITY }], now: NOW, scanBudget: 1e9, count: true })
      while (c.next(1e9) !== 'done');
    }
    expect(store.reads.bodies).toBe(before)
    await env.close()
  })
})

describe('layout', () => {
  test('a store written with an older index layout is reindexed when opened', async () => {
    const r = rng(13)
    const authors = Array.from({ length: 3 }, () => hex(r))
    const events = Array.from({ length: 200 }, () => event(r, authors))
    const dir = tempDir()
    const first = storeDbs(dir)
    await saveAll(first.store, events)
    // what a layout-1 store looked like: index values held only the expiration, no usage, no marker
    await first.env.transaction(() => {
      for (const { key, value } of [...first.dbs.index.getRange({})]) first.dbs.index.putSync(key, (value as number) % 2 ** 34)
      for (const key of [...first.dbs.meta.getKeys({ start: ['layout'], end: ['v'] })]) first.dbs.meta.removeSync(key)
    })
    await first.env.close()
    const { env, store } = storeDbs(dir)
    const filters = [{ filter: norm({ kinds: [7], '#t': ['a', 'b'] }), limit: 1000 }]
    const c = store.cursor({ filters, now: NOW, scanBudget: 1e9 })
    const got: string[] = []
    for (let x = c.next(1e9); x !== 'done'; x = c.next(1e9)) if (x !== 'busy') got.push(x.id)
    expect(got).toEqual(reference(events, filters))
    expect(store.usage(authors[0])[1]).toBe(events.filter((e) => e.pubkey === authors[0]).length)
    await env.close()
  })
})

describe('per-author usage and quota', () => {
  const bytes = (events: NostrEvent[]) => events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0)

  test('usage follows save, replace, NIP-09 deletion and expiry', async () => {
    const r = rng(3)
    const me = hex(r)
    const { env, store } = storeDbs(tempDir())
    const notes = Array.from({ length: 5 }, (_, i) => event(r, [me], { kind: 1, tags: [], created_at: NOW - 50 + i }))
    const profile1 = event(r, [me], { kind: 0, tags: [], created_at: NOW - 40 })
    const profile2 = event(r, [me], { kind: 0, tags: [], content: 'a longer profile than before', created_at: NOW - 30 })
    const soon = event(r, [me], { kind: 1, tags: [['expiration', String(NOW + 5)]] })
    await saveAll(store, [...notes, profile1, soon])
    expect(store.usage(me)).toEqual([bytes([...notes, profile1, soon]), 7])
    await saveAll(store, [profile2])
    expect(store.usage(me)).toEqual([bytes([...notes, profile2, soon]), 7])
    const del = event(r, [me], { kind: 5, tags: [['e', notes[0].id]], created_at: NOW - 20 })
    await saveAll(store, [del])
    expect(store.usage(me)).toEqual([bytes([...notes.slice(1), profile2, soon, del]), 7])
    expect(await store.purgeExpired(NOW + 10)).toBe(1)
    expect(store.usage(me)).toEqual([bytes([...notes.slice(1), profile2, del]), 6])
    await env.close()
  })

  test('block refuses past the quota and leaves nothing behind; a replacement that fits is taken', async () => {
    const r = rng(5)
    const me = hex(r)
    const dir = tempDir()
    const env = openEnvironment(dir)
    const quota: Quota = { bytes: 0, events: 3, action: 'block' }
    const store = openStore(env, { quota })
    const notes = Array.from({ length: 2 }, (_, i) => event(r, [me], { kind: 1, tags: [], created_at: NOW - 50 + i }))
    const profile = event(r, [me], { kind: 0, tags: [], created_at: NOW - 40 })
    await saveAll(store, [...notes, profile])
    const extra = event(r, [me], { kind: 1, tags: [] })
    expect(await store.save(extra, JSON.stringify(extra))).toEqual({ ok: false, reason: 'blocked: storage quota for this pubkey is full (3 events)' })
    expect(store.has(extra.id)).toBe(false)
    expect(store.usage(me)).toEqual([bytes([...notes, profile]), 3])
    // a newer profile replaces the old one: the count stays at 3
    const profile2 = event(r, [me], { kind: 0, tags: [], created_at: NOW - 10 })
    expect((await store.save(profile2, JSON.stringify(profile2))).ok).toBe(true)
    expect(store.has(profile.id)).toBe(false)
    // a deletion that frees room is taken; one that frees nothing is refused and deletes nothing
    const del = event(r, [me], { kind: 5, tags: [['e', notes[0].id]] })
    const del2 = event(r, [me], { kind: 5, tags: [['e', notes[1].id]] })
    expect((await store.save(del, JSON.stringify(del))).ok).toBe(true) // 2 notes + profile - note + del = 3
    expect(store.has(notes[0].id)).toBe(false)
    expect((await store.save(del2, JSON.stringify(del2))).ok).toBe(true) // frees notes[1]: still 3
    expect(store.usage(me)[1]).toBe(3)
    const del3 = event(r, [me], { kind: 5, tags: [['e', hex(r)]] })
    expect((await store.save(del3, JSON.stringify(del3))).ok).toBe(false)
    expect(store.usage(me)).toEqual([bytes([profile2, del, del2]), 3])
    // a refusal rolls back only itself: saves batched into the same commit are kept
    const others = Array.from({ length: 6 }, () => event(r, [hex(r)], { kind: 1 }))
    const refused = event(r, [me], { kind: 1, tags: [] })
    const results = await Promise.all([...others.slice(0, 3), refused, ...others.slice(3)].map((e) => store.save(e, JSON.stringify(e))))
    expect(results.map((x) => x.ok)).toEqual([true, true, true, false, true, true, true])
    await env.close()
    const again = openStore(openEnvironment(dir))
    for (const e of others) expect(again.has(e.id)).toBe(true)
    expect(again.has(refused.id)).toBe(false)
  })

  test('prune deletes the oldest regular events, never the newer ones for an older event', async () => {
    const r = rng(9)
    const me = hex(r)
    const other = hex(r)
    const env = openEnvironment(tempDir())
    const one = Buffer.byteLength(JSON.stringify(event(r, [me], { kind: 1, tags: [], content: 'x'.repeat(100) })))
    const store = openStore(env, { quota: { bytes: one * 4 + 10, events: 0, action: 'prune' } })
    const mk = (i: number) => event(r, [me], { kind: 1, tags: [], content: 'x'.repeat(100), created_at: NOW - 100 + i })
    const profile = event(r, [me], { kind: 0, tags: [], content: '', created_at: NOW - 200 })
    const notes = [mk(10), mk(11), mk(12)]
    await saveAll(store, [profile, ...notes, event(r, [other], { kind: 1 })])
    for (const i of [13, 14, 15]) await saveAll(store, [mk(i)])
    const c = store.cursor({ filters: [{ filter: norm({ authors: [me] }), limit: 100 }], now: NOW, scanBudget: 1e9 })
    const left: number[] = []
    for (let x = c.next(1e9); x !== 'done'; x = c.next(1e9)) if (x !== 'busy') left.push(x.created_at)
    expect(left).toEqual([NOW - 85, NOW - 86, NOW - 87, NOW - 200]) // the profile is kept
    const old = mk(1)
    expect(await store.save(old, JSON.stringify(old))).toEqual({ ok: false, reason: `blocked: storage quota for this pubkey is full (${one * 4 + 10} bytes)` })
    expect(store.usage(other)[1]).toBe(1)
    await env.close()
  })
})
