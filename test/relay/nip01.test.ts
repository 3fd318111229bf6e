// NIP-01 against the real server, through nostr-tools' Relay and raw frames.
import { describe, expect, test } from 'vitest'
import type { Relay } from 'nostr-tools/relay'
import { generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { now, rawClient, signed, withTimeout, type RawClient } from '../helpers/clients.ts'
import { useRelayServer, type ServerProcess } from '../helpers/server.ts'

let server: ServerProcess
let relay: Relay
useRelayServer((s, r) => {
  server = s
  relay = r
})

/** Sends a REQ on a raw socket and returns the EVENT frames before EOSE, plus the EOSE count later. */
async function req(c: RawClient, subId: string, ...filters: object[]): Promise<Event[]> {
  const start = c.frames.length
  c.send(['REQ', subId, ...filters])
  await c.next((f) => f[0] === 'EOSE' && f[1] === subId, 5000, start)
  return c.frames
    .slice(start)
    .filter((f) => f[0] === 'EVENT' && f[1] === subId)
    .map((f) => f[2] as Event)
}

async function publishAll(events: Event[]): Promise<void> {
  for (const e of events) await withTimeout(relay.publish(e), 5000, 'publish')
}

describe('NIP-01', () => {
  test('EVENT is answered OK true, and a duplicate with OK true duplicate: (NIP-01 example)', async () => {
    const e = signed()
    await expect(relay.publish(e)).resolves.toBe('')
    await expect(relay.publish(e)).resolves.toMatch(/^duplicate:/)
    const c = await rawClient(server.url)
    c.send(['EVENT', e])
    expect(await c.next((f) => f[0] === 'OK')).toEqual(['OK', e.id, true, expect.stringMatching(/^duplicate:/)])
    c.close()
  })

  test('exactly one EOSE per REQ whatever the filter count, no event twice across filters', async () => {
    const sk = generateSecretKey()
    const events = [signed({ kind: 1 }, sk), signed({ kind: 2 }, sk)]
    await publishAll(events)
    const c = await rawClient(server.url)
    const got = await req(c, 's', { authors: [getPublicKey(sk)] }, { kinds: [1], authors: [getPublicKey(sk)] }, { ids: [events[0].id] })
    expect(got.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort())
    await new Promise((r) => setTimeout(r, 100))
    expect(c.frames.filter((f) => f[0] === 'EOSE')).toHaveLength(1)
    c.close()
  })

  test('newest first, ties by lowest id, limit, since/until inclusive', async () => {
    const sk = generateSecretKey()
    const base = now() - 1000
    const events = [0, 1, 2, 2, 2, 3].map((d) => signed({ created_at: base + d, content: String(Math.random()) }, sk))
    await publishAll(events)
    const c = await rawClient(server.url)
    const author = getPublicKey(sk)
    const all = await req(c, 'all', { authors: [author] })
    const expected = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((e) => e.id)
    expect(all.map((e) => e.id)).toEqual(expected)
    expect((await req(c, 'lim', { authors: [author], limit: 3 })).map((e) => e.id)).toEqual(expected.slice(0, 3))
    const window = await req(c, 'win', { authors: [author], since: base + 1, until: base + 2 })
    expect(window.map((e) => e.created_at).sort()).toEqual([base + 1, base + 2, base + 2, base + 2])
    c.close()
  })

  test('limit 0 sends no stored events but keeps the subscription live', async () => {
    const sk = generateSecretKey()
    await publishAll([signed({}, sk)])
    const c = await rawClient(server.url)
    expect(await req(c, 'live', { authors: [getPublicKey(sk)], limit: 0 })).toHaveLength(0)
    const later = signed({}, sk)
    await publishAll([later])
    const f = await c.next((f) => f[0] === 'EVENT' && f[1] === 'live')
    expect((f[2] as Event).id).toBe(later.id)
    c.close()
  })

  test('every single-letter tag filter, and multiple tag filters together', async () => {
    const e = signed({
      tags: [
        ['t', 'alpha'],
        ['e', 'f'.repeat(64)],
        ['x', 'thing'],
        ['L', 'label'],
      ],
    })
    await publishAll([e])
    const c = await rawClient(server.url)
    for (const [i, f] of [
      { '#t': ['alpha'] },
      { '#e': ['f'.repeat(64)] },
      { '#x': ['thing'] },
      { '#L': ['label'] },
      { '#t': ['alpha'], '#x': ['thing'] },
    ].entries())
      expect((await req(c, `t${i}`, f)).map((x) => x.id)).toContain(e.id)
    expect(await req(c, 'none', { '#t': ['alpha'], '#x': ['other'] })).toHaveLength(0)
    c.close()
  })

  test('replaceable events keep only the newest; ties keep the lowest id', async () => {
    const sk = generateSecretKey()
    const t = now() - 10
    const old = signed({ kind: 0, created_at: t - 5, content: '{"name":"old"}' }, sk)
    const a = signed({ kind: 0, created_at: t, content: '{"name":"a"}' }, sk)
    const b = signed({ kind: 0, created_at: t, content: '{"name":"b"}' }, sk)
    await publishAll([old])
    const [low, high] = a.id < b.id ? [a, b] : [b, a]
    await publishAll([high, low])
    await expect(relay.publish(old)).resolves.toMatch(/^duplicate:/)
    const c = await rawClient(server.url)
    const got = await req(c, 'r', { kinds: [0], authors: [getPublicKey(sk)] })
    expect(got.map((e) => e.id)).toEqual([low.id])
    await expect(relay.publish(high)).resolves.toMatch(/^duplicate:/)
    c.close()
  })

  test('addressable events are kept per kind, pubkey and d tag', async () => {
    const sk = generateSecretKey()
    const t = now() - 10
    const x1 = signed({ kind: 30023, created_at: t, tags: [['d', 'x']] }, sk)
    const x2 = signed({ kind: 30023, created_at: t + 1, tags: [['d', 'x']] }, sk)
    const y = signed({ kind: 30023, created_at: t, tags: [['d', 'y']] }, sk)
    await publishAll([x1, x2, y])
    const c = await rawClient(server.url)
    const got = await req(c, 'a', { kinds: [30023], authors: [getPublicKey(sk)] })
    expect(got.map((e) => e.id).sort()).toEqual([x2.id, y.id].sort())
    c.close()
  })

  test('ephemeral events reach live subscribers and are never stored', async () => {
    const sk = generateSecretKey()
    const c = await rawClient(server.url)
    await req(c, 'eph', { kinds: [20001], authors: [getPublicKey(sk)] })
    const e = signed({ kind: 20001 }, sk)
    await publishAll([e])
    expect(((await c.next((f) => f[0] === 'EVENT' && f[1] === 'eph'))[2] as Event).id).toBe(e.id)
    expect(await req(c, 'eph2', { ids: [e.id] })).toHaveLength(0)
    await expect(relay.publish(e)).resolves.toMatch(/^duplicate:/)
    c.close()
  })

  test('CLOSE stops delivery; a REQ with the same id replaces the subscription', async () => {
    const sk = generateSecretKey()
    const author = getPublicKey(sk)
    const c = await rawClient(server.url)
    await req(c, 'x', { authors: [author], kinds: [1] })
    await req(c, 'x', { authors: [author], kinds: [2] }) // replaces kind 1
    await publishAll([signed({ kind: 1 }, sk), signed({ kind: 2 }, sk)])
    const f = await c.next((f) => f[0] === 'EVENT' && f[1] === 'x')
    expect((f[2] as Event).kind).toBe(2)
    c.send(['CLOSE', 'x'])
    await req(c, 'probe', { ids: ['0'.repeat(64)] }) // CLOSE is processed before this REQ
    const before = c.frames.length
    await publishAll([signed({ kind: 2 }, sk)])
    await req(c, 'probe2', { ids: ['0'.repeat(64)] })
    expect(c.frames.slice(before).filter((f) => f[0] === 'EVENT')).toHaveLength(0)
    c.close()
  })

  test('a REQ then an EVENT sent back to back on one socket: the EVENT reaches the REQ', async () => {
    const c = await rawClient(server.url)
    for (let i = 0; i < 50; i++) {
      const sk = generateSecretKey()
      const e = signed({ kind: 24133, tags: [['p', getPublicKey(sk)]] })
      c.send(['REQ', `b${i}`, { kinds: [24133], '#p': [getPublicKey(sk)], limit: 0 }])
      c.send(['EVENT', e])
      const f = await c.next((f) => f[0] === 'EVENT' && f[1] === `b${i}`)
      expect((f[2] as Event).id).toBe(e.id)
    }
    c.close()
  })

  test('SimplePool queries and publishes across the same relay', async () => {
    const { SimplePool } = await import('nostr-tools/pool')
    const pool = new SimplePool()
    const e = signed({ kind: 1, content: 'pool' })
    await Promise.all(pool.publish([server.url], e))
    const got = await pool.get([server.url], { ids: [e.id] })
    expect(got?.id).toBe(e.id)
    pool.close([server.url])
  })
})
