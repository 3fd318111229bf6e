// Relays side by side in one process: routing by path, isolation of events and subscribers, NIP-11
// per relay, switching a relay off and on, deleting it, and settings changed on a live relay.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Relay } from 'nostr-tools/relay'
import { generateSecretKey } from 'nostr-tools/pure'
import { signed, WebSocket } from '../helpers/clients.ts'
import { call, createRelay, nip11, publish, query, rawClient, type RelaysServer, rpc, startRelaysServer, upgrade } from './helpers.ts'

let s: RelaysServer

beforeAll(async () => {
  s = await startRelaysServer()
  await createRelay(s, 'alpha', { name: 'Alpha', meta: { limitPerFilter: 2 } })
  await createRelay(s, 'beta', { name: 'Beta', description: 'the second', meta: { max_client_filters: 1 } })
})
afterAll(async () => {
  expect(await s.server.stop()).toBe(0)
})

describe('routing', () => {
  test('/nostrrelay/<id> with and without a trailing slash; an unknown id is 404 at upgrade and over HTTP', async () => {
    for (const url of [s.wsUrl('alpha'), `${s.wsUrl('alpha')}/`]) {
      const ws = await upgrade(url)
      expect(ws).toBeInstanceOf(WebSocket)
      ;(ws as WebSocket).close()
    }
    expect(await upgrade(s.wsUrl('nope'))).toBe(404)
    expect(await upgrade(`${s.server.url}/nostrrelay/`)).toBe(404)
    expect(await upgrade(`${s.server.url}/nostrrelay/a/b`)).toBe(404)
    expect((await nip11(s.wsUrl('nope'))).status).toBe(404)
  })
})

describe('isolation', () => {
  test('an event sent to one relay is never seen on another, stored or live', async () => {
    const [a, b, root] = await Promise.all([s.wsUrl('alpha'), s.wsUrl('beta'), s.wsUrl('')].map((u) => Relay.connect(u)))
    const seenOnB: string[] = []
    const seenOnRoot: string[] = []
    const subB = b.subscribe([{ kinds: [1] }], { onevent: (e) => void seenOnB.push(e.id) })
    const subRoot = root.subscribe([{ kinds: [1] }], { onevent: (e) => void seenOnRoot.push(e.id) })
    const seenOnA: string[] = []
    const subA = a.subscribe([{ kinds: [1] }], { onevent: (e) => void seenOnA.push(e.id) })
    const e = signed({ content: 'only on alpha' })
    await a.publish(e)
    const check = await rawClient(s.wsUrl('alpha'))
    expect((await query(check, [{ ids: [e.id] }])).ids).toEqual([e.id])
    check.close()
    for (const id of ['beta', '']) {
      const c = await rawClient(s.wsUrl(id))
      expect((await query(c, [{ ids: [e.id] }])).ids).toEqual([])
      // the same event is new to the other relay: stored there on its own
      expect(await publish(c, e)).toEqual([true, ''])
      c.close()
    }
    await new Promise((r) => setTimeout(r, 200))
    expect(seenOnA).toEqual([e.id])
    expect(seenOnB).toEqual([e.id]) // from its own publish, once
    expect(seenOnRoot).toEqual([e.id])
    for (const sub of [subA, subB, subRoot]) sub.close()
    for (const r of [a, b, root]) r.close()
  })
})

describe('NIP-11 per relay', () => {
  test('name, description, id, config (camelCase) and limitation from the settings, with CORS', async () => {
    const { doc, cors } = await nip11(s.wsUrl('beta'))
    expect(cors).toBe('*')
    expect(doc).toMatchObject({ id: 'beta', name: 'Beta', description: 'the second' })
    expect(doc.config).toMatchObject({ maxClientFilters: 1, limitPerFilter: 1000, freeStorageValue: 1, fullStorageAction: 'prune', isPaidRelay: false })
    expect(doc.config).not.toHaveProperty('wallet')
    expect(doc.limitation).toMatchObject({ auth_required: false, payment_required: false, restricted_writes: false })
    const alpha = (await nip11(s.wsUrl('alpha'))).doc
    expect(alpha).toMatchObject({ id: 'alpha', name: 'Alpha' })
    expect((alpha.limitation as Record<string, unknown>).max_limit).toBe(2)
    const root = (await nip11(s.wsUrl(''))).doc
    expect(root).not.toHaveProperty('config')
    expect((root.supported_nips as number[]).includes(46)).toBe(true) // the bunker runs on "/" by default
    expect((alpha.supported_nips as number[]).includes(46)).toBe(false)
  })
})

describe('metrics', () => {
  test('per-relay series carry a relay label', async () => {
    const c = await rawClient(s.wsUrl('alpha'))
    await query(c, [{ limit: 1 }])
    const text = await (await fetch(`${s.httpUrl('')}/metrics`)).text()
    expect(text).toMatch(/^nsecrelay_connections\{relay="\/nostrrelay\/alpha"\} [1-9]\d*$/m)
    expect(text).toMatch(/^nsecrelay_reqs_total\{relay="\/nostrrelay\/alpha"\} [1-9]\d*$/m)
    expect(text).toMatch(/^nsecrelay_connections\{relay="\/"\} \d+$/m)
    c.close()
  })
})

describe('lifecycle', () => {
  test('a settings change applies to the open connections at once', async () => {
    await createRelay(s, 'live')
    const c = await rawClient(s.wsUrl('live'))
    expect((await query(c, [{ kinds: [1] }, { kinds: [2] }, { kinds: [3] }])).closed).toBeUndefined()
    await call(s.httpUrl('live'), s.adminSk, 'updaterelay', ['live', { meta: { maxClientFilters: 2 } }])
    expect((await query(c, [{ kinds: [1] }, { kinds: [2] }, { kinds: [3] }])).closed).toMatch(/^rate-limited: too many filters/)
    expect((await query(c, [{ kinds: [1] }, { kinds: [2] }])).closed).toBeUndefined()
    expect(((await nip11(s.wsUrl('live'))).doc.config as Record<string, unknown>).maxClientFilters).toBe(2)
    c.close()
  })

  test('switching a relay off sends a NOTICE and closes its clients; upgrades are refused until it is on again', async () => {
    await createRelay(s, 'onoff')
    const c = await rawClient(s.wsUrl('onoff'))
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)))
    const other = await rawClient(s.wsUrl('alpha'))
    expect((await rpc(s.httpUrl(''), s.adminSk, 'disablerelay', ['onoff'])).body.result).toMatchObject({ id: 'onoff', active: false })
    expect(await c.next((f) => f[0] === 'NOTICE')).toEqual(['NOTICE', "Relay 'onoff' has been deactivated."])
    expect(await closed).toBe(1001)
    expect(await upgrade(s.wsUrl('onoff'))).toBe(403)
    expect((await query(other, [{ limit: 1 }])).closed).toBeUndefined() // other relays go on
    expect((await nip11(s.wsUrl('onoff'))).status).toBe(200) // LNbits serves NIP-11 for an inactive relay too
    await call(s.httpUrl(''), s.adminSk, 'enablerelay', ['onoff'])
    const again = await upgrade(s.wsUrl('onoff'))
    expect(again).toBeInstanceOf(WebSocket)
    ;(again as WebSocket).close()
    other.close()
  })

  test('deleting a relay disconnects its clients and deletes its events; the id can be made again, empty', async () => {
    await createRelay(s, 'gone')
    const c = await rawClient(s.wsUrl('gone'))
    const e = signed({ content: 'to be deleted' })
    expect(await publish(c, e)).toEqual([true, ''])
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)))
    expect(await call(s.httpUrl(''), s.adminSk, 'deleterelay', ['gone'])).toBe(true)
    expect(await c.next((f) => f[0] === 'NOTICE')).toEqual(['NOTICE', "Relay 'gone' has been deleted."])
    expect(await closed).toBe(1001)
    expect(await upgrade(s.wsUrl('gone'))).toBe(404)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'getrelay', ['gone'])).body.error).toBe('invalid: no relay "gone"')
    await createRelay(s, 'gone', { name: 'gone again' })
    const d = await rawClient(s.wsUrl('gone'))
    expect((await query(d, [{ ids: [e.id] }])).ids).toEqual([])
    d.close()
  })

  test('the default relay and the bunker’s relay cannot be deleted', async () => {
    expect((await rpc(s.httpUrl(''), s.adminSk, 'deleterelay', ['']).then((a) => a.body.error)) ?? '').toMatch(/^invalid:/)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'updaterelay', ['', { active: false }])).body.error).toMatch(/cannot be switched off/)
    expect((await nip11(s.wsUrl(''))).doc.description).toBe('A Nostr relay with a built-in NIP-46 bunker')
    const sk = generateSecretKey()
    expect((await rpc(s.httpUrl(''), sk, 'listrelays')).status).toBe(403)
  })
})
