import { describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { createDispatchTable } from '../../relay/dispatch.ts'
import { normaliseFilters, type Filter } from '../../relay/filter.ts'
import { createRelay } from '../../relay/relay.ts'
import { openEnvironment, openStore } from '../../relay/store/store.ts'
import { signed } from '../helpers/clients.ts'
import { tempDir } from '../helpers/server.ts'

const filters = (...raws: Filter[]) => {
  const f = normaliseFilters(raws)
  if (typeof f === 'string') throw new Error(f)
  return f
}

describe('dispatch table', () => {
  test('indexes by id, author, tag, kind and catch-all; delivers once per subscription', () => {
    const table = createDispatchTable()
    const e = signed({
      kind: 7,
      tags: [
        ['p', 'f'.repeat(64)],
        ['t', 'x'],
      ],
    })
    const got: string[] = []
    const mk = (name: string, ...raws: Filter[]) => table.add(filters(...raws), () => got.push(name))
    mk('id', { ids: [e.id] })
    mk('author', { authors: [e.pubkey] })
    mk('tag', { '#p': ['f'.repeat(64)] })
    mk('kind', { kinds: [7] })
    mk('all', {})
    mk('many', { kinds: [7] }, { '#t': ['x'] }, { authors: [e.pubkey] })
    const miss = mk('miss', { kinds: [8] }, { '#p': ['0'.repeat(64)] })
    table.dispatch(e, JSON.stringify(e))
    expect(got.sort()).toEqual(['all', 'author', 'id', 'kind', 'many', 'tag'])
    table.remove(miss)
    expect(table.size).toBe(6)
  })

  test('removed subscriptions receive nothing', () => {
    const table = createDispatchTable()
    let n = 0
    const sub = table.add(filters({ kinds: [1] }), () => n++)
    table.remove(sub)
    table.dispatch(signed(), '{}')
    expect(n).toBe(0)
  })

  test('a sink that dispatches: the outer event still reaches each subscription once, then the inner', () => {
    const table = createDispatchTable()
    const outer = signed({ kind: 1, tags: [['t', 'x']] })
    const inner = signed({ kind: 2 })
    const got: string[] = []
    // the replier comes first, and the watcher is filed under two buckets the outer event hits
    table.add(filters({ kinds: [1] }), (e) => {
      got.push(`replier:${e.kind}`)
      table.dispatch(inner, '{}')
    })
    table.add(filters({ kinds: [1, 2] }, { '#t': ['x'] }), (e) => got.push(`watcher:${e.kind}`))
    table.dispatch(outer, '{}')
    expect(got).toEqual(['replier:1', 'watcher:1', 'watcher:2'])
  })

  test('holds one index entry per value filed, shares keys, and gives every entry back on remove', () => {
    const table = createDispatchTable()
    const authors = Array.from({ length: 3 }, () => getPublicKey(generateSecretKey()))
    const tagged = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)
    const subs = [
      table.add(filters({ '#t': tagged(1000, 'a') }), () => {}),
      table.add(filters({ '#t': tagged(1000, 'a') }, { authors }), () => {}), // the same 1,000 keys, shared
      table.add(filters({ kinds: [1, 2] }, {}, { since: 5 }), () => {}),
      table.add(filters({ ids: [] }), () => {}), // matches nothing: filed nowhere
    ]
    expect(table.entries).toBe(1000 + 1000 + 3 + 2 + 1 + 1)
    let got = 0
    table.add(filters({ authors: [authors[1]] }), () => got++)
    table.dispatch(signed({ tags: [['t', 'a7']] }), '{}')
    for (const sub of subs) table.remove(sub)
    table.remove(subs[0]) // twice: nothing more to give back
    expect(table.entries).toBe(1)
    expect(table.size).toBe(1)
    const e = signed({ tags: [['t', 'a7']] })
    table.dispatch({ ...e, pubkey: authors[1] }, '{}')
    expect(got).toBe(1)
  })

  test('a sink that removes itself or others mid-delivery: each remaining one still gets the event once', () => {
    const table = createDispatchTable()
    const got: string[] = []
    const subs: ReturnType<typeof table.add>[] = []
    for (let i = 0; i < 4; i++)
      subs.push(
        table.add(filters({ '#t': ['x'] }), () => {
          got.push(`s${i}`)
          if (i === 0) table.remove(subs[0])
          if (i === 1) table.remove(subs[2])
        }),
      )
    table.dispatch(signed({ tags: [['t', 'x']] }), '{}')
    expect(got).toEqual(['s0', 's1', 's3'])
    table.dispatch(signed({ tags: [['t', 'x']] }), '{}')
    expect(got).toEqual(['s0', 's1', 's3', 's1', 's3'])
    table.remove(subs[1])
    table.remove(subs[3])
    expect(table.entries).toBe(0)
  })

  test('a throwing sink does not stop delivery to the others', () => {
    const errors: unknown[] = []
    const table = createDispatchTable((e) => errors.push(e))
    let n = 0
    table.add(filters({ kinds: [1] }), () => {
      throw new Error('boom')
    })
    table.add(filters({ kinds: [1] }), () => n++)
    table.dispatch(signed(), '{}')
    expect(n).toBe(1)
    expect(errors).toHaveLength(1)
  })
})

describe('relay.subscribe before relay.publish', () => {
  test('a sink registered synchronously before a publish never misses it (1,000 rounds)', async () => {
    const env = openEnvironment(tempDir())
    const relay = createRelay({ store: openStore(env) })
    let missed = 0
    for (let i = 0; i < 1000; i++) {
      const sk = generateSecretKey()
      const target = getPublicKey(sk)
      let got = 0
      const handle = relay.subscribe([{ kinds: [24133], '#p': [target] }], () => got++)
      const out = await relay.publish(signed({ kind: 24133, tags: [['p', target]] }))
      expect(out.ok).toBe(true)
      if (got !== 1) missed++
      handle.close()
    }
    expect(missed).toBe(0)
    relay.close()
    await env.close()
  })
})
