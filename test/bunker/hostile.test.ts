// Hostile clients on the bunker's request path: approval prompt floods, deeply nested params,
// metric label floods, per-client rate limits and a full replay memory. Every client here is raw
// (test/bunker/raw.ts), so the tests control each event on the wire.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SimplePool } from 'nostr-tools/pool'
import {
  aclResponder,
  bunkerSignerAdmin,
  fastPool,
  npubToHex,
  startBunkerServer,
  type AdminClient,
  type BunkerServer,
  useBunkerServer,
} from '../helpers/bunker.ts'
import { now } from '../helpers/clients.ts'
import { rawPeer, type RawPeer } from './raw.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
useBunkerServer((f) => void ({ b, pool, admin } = f))

let counter = 0
async function newKey(): Promise<string> {
  const { npub } = JSON.parse(await admin.call('create_new_key', [`h${counter++}`, 'pw']))
  return npubToHex(npub)
}

const signRequest = (i: number, kind = 1) => ({
  id: `s${i}`,
  method: 'sign_event',
  params: [JSON.stringify({ kind, content: `#${i}`, tags: [], created_at: now() })],
})

async function metricsText(server: BunkerServer): Promise<string> {
  return (await fetch(`${server.server.url.replace('ws://', 'http://')}/metrics`)).text()
}

describe('approval prompts', () => {
  test('1,000 requests from one unknown client raise one acl question, not one each; every request gets one reply', async () => {
    const responder = aclResponder(b, pool, () => null) // the admin never answers: each question times out (1 s)
    const key = await newKey()
    const client = await rawPeer(b.server.url)
    const N = 1000
    for (let i = 0; i < N; i++) client.request(key, signRequest(i))
    await client.until(N, 20_000)
    expect(new Set(client.replies.map((r) => r.id)).size).toBe(N) // one reply each
    expect(client.replies.every((r) => r.result === 'error')).toBe(true)
    await new Promise((r) => setTimeout(r, 300)) // questions still in flight to the admin, if any
    // One open at a time: 1 here, or a few on a slow machine, where requests still arrive after the
    // first question timed out (1 s) and then ask again. Before: one question a request.
    const asked = responder.asked.filter((q) => q.remotePubkey === client.pk).length
    expect(asked).toBeLessThanOrEqual(5)
    // each question holds itself and at most 32 waiting requests; the rest are refused at once
    expect(client.replies.filter((r) => /waiting for an admin/.test(r.error!)).length).toBeGreaterThanOrEqual(N - 33 * asked)
    expect(await admin.call('ping')).toBe('ok') // the admin's own connection is still there
    client.close()
    responder.close()
  }, 60_000)

  test('requests waiting on a question that gets "always" for all kinds are covered by it: one question, all signed', async () => {
    const responder = aclResponder(b, pool, () => ['always', 'phone', { kind: 'all' }])
    const key = await newKey()
    const client = await rawPeer(b.server.url)
    for (let i = 0; i < 20; i++) client.request(key, signRequest(i, i % 3))
    await client.until(20)
    expect(client.replies.map((r) => r.error)).toEqual(Array(20).fill(undefined))
    expect(responder.asked.filter((q) => q.remotePubkey === client.pk)).toHaveLength(1)
    client.close()
    responder.close()
  })

  test('"once" covers only the request asked about: the next waiting one asks in turn, one question at a time', async () => {
    // an admin that takes 100 ms to answer each question, counting the questions open at once
    const slowAdmin = await rawPeer(b.server.url, b.adminSk)
    let open = 0
    let maxOpen = 0
    const asked: string[] = []
    slowAdmin.onRequest = (req, from) => {
      if (req.method !== 'acl') return
      asked.push(JSON.parse(req.params[0]).remotePubkey)
      maxOpen = Math.max(maxOpen, ++open)
      setTimeout(() => {
        open--
        slowAdmin.answer(from, { id: req.id, result: JSON.stringify(['once']) })
      }, 100)
    }
    const key = await newKey()
    const client = await rawPeer(b.server.url)
    for (let i = 0; i < 3; i++) client.request(key, signRequest(i))
    await client.until(3)
    expect(client.replies.map((r) => r.error)).toEqual([undefined, undefined, undefined])
    expect(asked.filter((pk) => pk === client.pk)).toHaveLength(3)
    expect(maxOpen).toBe(1)
    client.close()
    slowAdmin.close()
  })
})

describe('malformed requests', () => {
  test('params nested 10,000 levels deep get an error reply, on the admin key and on a user key, and no stack trace', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
    const body = (id: string, method: string, n: number) => `{"id":"${id}","method":"${method}","params":[${deep(n)}]}`
    const adminPeer = await rawPeer(b.server.url, b.adminSk)
    adminPeer.request(b.bunker.pubkey, body('deep-admin', 'get_key', 10_000))
    expect(await adminPeer.reply('deep-admin')).toMatchObject({ result: 'error', error: expect.stringMatching(/nested/) })
    const key = await newKey()
    const client = await rawPeer(b.server.url)
    client.request(key, body('deep-user', 'sign_event', 10_000))
    expect(await client.reply('deep-user')).toMatchObject({ result: 'error', error: expect.stringMatching(/nested/) })
    // nesting an admin client may send is still fine
    adminPeer.request(b.bunker.pubkey, body('shallow', 'ping', 8))
    expect(await adminPeer.reply('shallow')).toEqual({ id: 'shallow', result: 'ok' })
    expect(b.server.stderr.join('\n')).not.toMatch(/call stack/)
    adminPeer.close()
    client.close()
  })
})

describe('metrics', () => {
  test('thousands of distinct unknown method names leave /metrics small and name none of them', async () => {
    const key = await newKey()
    const adminPeer = await rawPeer(b.server.url, b.adminSk)
    const clients: RawPeer[] = []
    for (let c = 0; c < 3; c++) clients.push(await rawPeer(b.server.url))
    const N = 1000
    for (let i = 0; i < N; i++) {
      adminPeer.request(b.bunker.pubkey, { id: `m${i}`, method: `admin_junk_${i}`, params: [] })
      for (const [c, client] of clients.entries()) client.request(key, { id: `m${i}`, method: `junk_${c}_${i}`, params: [] })
    }
    await Promise.all([adminPeer.until(N, 30_000), ...clients.map((c) => c.until(N, 30_000))])
    expect(clients[0].replies[0].error).toMatch(/Unknown method junk_0_0/)
    const text = await metricsText(b)
    expect(text).not.toMatch(/junk_/)
    expect(text).toMatch(/nsecrelay_bunker_requests_total\{method="other",outcome="error"\} \d+/)
    expect(text.length).toBeLessThan(100_000)
    adminPeer.close()
    for (const c of clients) c.close()
  }, 60_000)
})

describe('per-client rate limit and a full replay memory (small limits)', () => {
  let small: BunkerServer
  let smallPool: SimplePool
  let smallAdmin: AdminClient
  beforeAll(async () => {
    // strangers may fill half the memory: 15 of 30
    small = await startBunkerServer({ config: { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, requestsPerMinute: 10, maxRememberedRequests: 30 } } })
    smallPool = await fastPool()
    smallAdmin = await bunkerSignerAdmin(small, smallPool) // connect: 1 remembered
  })
  afterAll(async () => {
    await smallAdmin?.close()
    smallPool?.destroy()
    await small?.server.stop()
  })

  test('a client over its rate gets rate-limited: replies; admins are not limited; ids are refused, never forgotten, when the memory is full', async () => {
    const { npub } = JSON.parse(await smallAdmin.call('create_new_key', ['k', 'pw'])) // 2 remembered
    const key = npubToHex(npub)
    const s1 = await rawPeer(small.server.url)
    for (let i = 0; i < 15; i++) s1.request(key, { id: `r${i}`, method: 'nope', params: [] })
    await s1.until(15)
    expect(s1.replies.filter((r) => /Unknown method/.test(r.error!))).toHaveLength(10)
    expect(s1.replies.filter((r) => /^rate-limited: more than 10 requests a minute/.test(r.error!))).toHaveLength(5)
    // strangers: 10 of their 15 remembered; the admin is not limited
    const adminPeer = await rawPeer(small.server.url, small.adminSk)
    for (let i = 0; i < 12; i++) adminPeer.request(small.bunker.pubkey, { id: `p${i}`, method: 'ping', params: [] })
    await adminPeer.until(12)
    expect(adminPeer.replies.every((r) => r.result === 'ok')).toBe(true) // 24 remembered
    const s2 = await rawPeer(small.server.url)
    for (let i = 0; i < 8; i++) s2.request(key, { id: `q${i}`, method: 'nope', params: [] })
    await s2.until(8)
    expect(s2.replies.filter((r) => /Unknown method/.test(r.error!))).toHaveLength(5) // strangers' half is full
    expect(s2.replies.filter((r) => /^rate-limited: the bunker is busy/.test(r.error!))).toHaveLength(3)
    for (let i = 12; i < 20; i++) adminPeer.request(small.bunker.pubkey, { id: `p${i}`, method: 'ping', params: [] })
    await adminPeer.until(20)
    expect(adminPeer.replies.slice(12).map((r) => r.error ?? r.result)).toEqual([
      ...Array(1).fill('ok'),
      ...Array(7).fill('rate-limited: the bunker is busy, try again later'),
    ])
    const text = await metricsText(small)
    expect(text).toMatch(/^nsecrelay_bunker_refused_total\{reason="rate_limited"\} 5$/m)
    expect(text).toMatch(/^nsecrelay_bunker_refused_total\{reason="memory_full"\} 10$/m)
    expect(text).toMatch(/^nsecrelay_bunker_remembered_requests 30$/m)
    s1.close()
    s2.close()
    adminPeer.close()
  })
})
