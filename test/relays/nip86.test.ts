// NIP-86 management on each relay's URL with NIP-98 auth: a valid call, and refusals without a
// header, with a wrong kind, method, URL, payload hash or time, replayed, from a non-admin; admins per
// relay; the standard methods' effects on the relay.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { now, signed } from '../helpers/clients.ts'
import {
  authHeader,
  call,
  createRelay,
  nip11,
  post,
  publish,
  query,
  rawClient,
  type RelaysServer,
  rpc,
  startRelaysServer,
  type Tamper,
  upgrade,
} from './helpers.ts'

let s: RelaysServer
const ownerSk = generateSecretKey()

beforeAll(async () => {
  s = await startRelaysServer({ config: { relays: { maxRpcBytes: 4096 } } })
})
afterAll(async () => {
  expect(await s.server.stop()).toBe(0)
})

const RPC = { 'Content-Type': 'application/nostr+json+rpc' }
const body = JSON.stringify({ method: 'supportedmethods', params: [] })
const send = (url: string, t: Tamper = {}, sk = s.adminSk, text = body) => post(url, text, { ...RPC, Authorization: t.header ?? authHeader(sk, url, text, t) })

describe('NIP-98 on NIP-86', () => {
  test('a valid call answers {result}', async () => {
    const a = await send(s.httpUrl(''))
    expect(a.status).toBe(200)
    expect(a.body.result).toEqual(expect.arrayContaining(['banpubkey', 'listbannedpubkeys', 'createrelay', 'setaccount', 'listaccounts']))
    // nostr-tools' own NIP-98 token (getToken with the payload) is accepted too
    expect((await rpc(s.httpUrl(''), s.adminSk, 'supportedmethods')).status).toBe(200)
  })

  test('refused without a header, or with a wrong kind, method, URL, payload hash or time', async () => {
    const url = s.httpUrl('')
    const cases: Array<[Tamper, RegExp]> = [
      [{ header: '' }, /missing/],
      [{ header: 'Nostr !!!' }, /missing/],
      [{ header: `Nostr ${Buffer.from('{}').toString('base64')}` }, /id must be/],
      [{ kind: 27236 }, /kind 27235/],
      [{ method: 'GET' }, /another method/],
      [{ url: `${url}nostrrelay/x` }, /another URL/],
      [{ url: url.replace('127.0.0.1', 'example.com') }, /another URL/],
      [{ payload: '0'.repeat(64) }, /another payload/],
      [{ omitPayload: true }, /another payload/],
      [{ createdAt: now() - 120 }, /too old/],
      [{ createdAt: now() + 120 }, /too old or too far in the future/],
    ]
    for (const [t, reason] of cases) {
      const a = await send(url, t)
      expect(a.status, JSON.stringify(t)).toBe(401)
      expect(a.body.error).toMatch(/^auth-required: /)
      expect(a.body.error).toMatch(reason)
    }
    const forged = JSON.parse(Buffer.from(authHeader(s.adminSk, url, body).slice(6), 'base64').toString())
    forged.sig = forged.sig.replace(/^./, (c: string) => (c === '0' ? '1' : '0'))
    expect((await send(url, { header: `Nostr ${Buffer.from(JSON.stringify(forged)).toString('base64')}` })).body.error).toMatch(/does not verify/)
  })

  test('from a non-admin: 403; a wrong content type: 415; a body over the bound: 413', async () => {
    expect((await send(s.httpUrl(''), {}, generateSecretKey())).status).toBe(403)
    const a = await post(s.httpUrl(''), body, { 'Content-Type': 'application/json', Authorization: authHeader(s.adminSk, s.httpUrl(''), body) })
    expect(a.status).toBe(415)
    const big = JSON.stringify({ method: 'supportedmethods', params: ['x'.repeat(5000)] })
    expect((await send(s.httpUrl(''), {}, s.adminSk, big)).status).toBe(413)
  })

  test('a change cannot be replayed with the same header; a read may be repeated', async () => {
    const url = s.httpUrl('')
    const change = JSON.stringify({ method: 'changerelaydescription', params: ['once'] })
    const header = authHeader(s.adminSk, url, change)
    expect((await post(url, change, { ...RPC, Authorization: header })).body).toEqual({ result: true })
    const again = await post(url, change, { ...RPC, Authorization: header })
    expect(again.status).toBe(401)
    expect(again.body.error).toMatch(/already used/)
    const read = authHeader(s.adminSk, url, body)
    for (let i = 0; i < 2; i++) expect((await post(url, body, { ...RPC, Authorization: read })).status).toBe(200)
  })
})

describe('admins per relay', () => {
  test('a relay’s pubkey administers that relay alone; creating and deleting relays takes a global admin', async () => {
    await createRelay(s, 'owned', { pubkey: getPublicKey(ownerSk) })
    await createRelay(s, 'other')
    expect(await call(s.httpUrl('owned'), ownerSk, 'changerelayname', ['Mine'])).toBe(true)
    expect((await nip11(s.wsUrl('owned'))).doc.name).toBe('Mine')
    expect((await rpc(s.httpUrl('owned'), ownerSk, 'updaterelay', ['owned', { meta: { maxEventsPerHour: 5 } }])).status).toBe(200)
    expect((await rpc(s.httpUrl('owned'), ownerSk, 'updaterelay', ['other', { name: 'x' }])).status).toBe(403)
    expect((await rpc(s.httpUrl('other'), ownerSk, 'changerelayname', ['x'])).status).toBe(403)
    expect((await rpc(s.httpUrl('owned'), ownerSk, 'createrelay', ['new', {}])).status).toBe(403)
    expect((await rpc(s.httpUrl('owned'), ownerSk, 'deleterelay', ['owned'])).status).toBe(403)
    expect((await rpc(s.httpUrl(''), ownerSk, 'supportedmethods')).status).toBe(403)
  })

  test('bad params and unknown methods answer an error, changing nothing', async () => {
    expect((await rpc(s.httpUrl(''), s.adminSk, 'nosuchmethod')).body.error).toMatch(/^invalid: unknown method/)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'banpubkey', ['not a key'])).body.error).toMatch(/^invalid: /)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'createrelay', ['bad/id', {}])).body.error).toMatch(/^invalid: /)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'createrelay', ['x1', { meta: { fullStorageAction: 'explode' } }])).body.error).toMatch(/fullStorageAction/)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'getrelay', ['x1'])).body.error).toMatch(/no relay/)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'createrelay', ['owned', {}])).body.error).toMatch(/^duplicate: /)
  })
})

describe('the standard methods act on the relay', () => {
  test('banpubkey refuses the author’s events; listbannedpubkeys lists it; unban lets it back', async () => {
    await createRelay(s, 'bans')
    const c = await rawClient(s.wsUrl('bans'))
    const sk = generateSecretKey()
    const pk = getPublicKey(sk)
    const url = s.httpUrl('bans')
    expect(await call(url, s.adminSk, 'banpubkey', [pk, 'spam'])).toBe(true)
    expect(await call(url, s.adminSk, 'listbannedpubkeys')).toEqual([{ pubkey: pk, reason: '' }])
    expect(await publish(c, signed({}, sk))).toEqual([false, `blocked: pubkey ${pk} is not allowed on this relay`])
    expect(await call(url, s.adminSk, 'unbanpubkey', [pk])).toBe(true)
    expect((await publish(c, signed({}, sk)))[0]).toBe(true)
    expect(await call(url, s.adminSk, 'allowpubkey', [pk])).toBe(true)
    expect(await call(url, s.adminSk, 'listallowedpubkeys')).toEqual([{ pubkey: pk, reason: '' }])
    c.close()
  })

  test('banevent deletes the event and keeps it out; allowevent lifts the ban', async () => {
    await createRelay(s, 'evban')
    const c = await rawClient(s.wsUrl('evban'))
    const e = signed()
    expect((await publish(c, e))[0]).toBe(true)
    const url = s.httpUrl('evban')
    expect(await call(url, s.adminSk, 'banevent', [e.id, 'illegal'])).toBe(true)
    expect((await query(c, [{ ids: [e.id] }])).ids).toEqual([])
    expect(await publish(c, e)).toEqual([false, 'blocked: this event is banned on this relay'])
    expect(await call(url, s.adminSk, 'listbannedevents')).toEqual([{ id: e.id, reason: 'illegal' }])
    expect(await call(url, s.adminSk, 'allowevent', [e.id])).toBe(true)
    expect((await publish(c, e))[0]).toBe(true)
    c.close()
  })

  test('allowkind makes an allow list; disallowkind takes a kind off it, or denies it', async () => {
    await createRelay(s, 'kinds')
    const c = await rawClient(s.wsUrl('kinds'))
    const url = s.httpUrl('kinds')
    expect(await call(url, s.adminSk, 'disallowkind', [7])).toBe(true)
    expect(await publish(c, signed({ kind: 7 }))).toEqual([false, 'blocked: events of kind 7 are not accepted here'])
    expect((await publish(c, signed({ kind: 1 })))[0]).toBe(true)
    expect(await call(url, s.adminSk, 'allowkind', [1])).toBe(true)
    expect(await call(url, s.adminSk, 'listallowedkinds')).toEqual([1])
    expect(await publish(c, signed({ kind: 6 }))).toEqual([false, 'blocked: events of kind 6 are not accepted here'])
    expect(((await nip11(s.wsUrl('kinds'))).doc.limitation as Record<string, boolean>).restricted_writes).toBe(true)
    c.close()
  })

  test('blockip refuses new connections from that address at upgrade', async () => {
    await createRelay(s, 'ips')
    expect(await call(s.httpUrl('ips'), s.adminSk, 'blockip', ['127.0.0.1', 'test'])).toBe(true)
    expect(await upgrade(s.wsUrl('ips'))).toBe(403)
    expect(await call(s.httpUrl('ips'), s.adminSk, 'listblockedips')).toEqual([{ ip: '127.0.0.1', reason: 'test' }])
    expect(await call(s.httpUrl('ips'), s.adminSk, 'unblockip', ['127.0.0.1'])).toBe(true)
    const ws = await upgrade(s.wsUrl('ips'))
    expect(typeof ws).not.toBe('number')
    ;(ws as { close(): void }).close()
  })

  test('setaccount merges into the account; getaccount and deleteaccount', async () => {
    await createRelay(s, 'accts')
    const pk = getPublicKey(generateSecretKey())
    const url = s.httpUrl('accts')
    await call(url, s.adminSk, 'setaccount', ['accts', { pubkey: pk, sats: 21 }])
    await call(url, s.adminSk, 'setaccount', ['accts', { pubkey: pk, storage: 1024, paid_to_join: true }])
    expect(await call(url, s.adminSk, 'getaccount', ['accts', pk])).toEqual({
      relay_id: 'accts',
      pubkey: pk,
      sats: 21,
      storage: 1024,
      paid_to_join: true,
      allowed: false,
      blocked: false,
    })
    expect(await call(url, s.adminSk, 'deleteaccount', ['accts', pk])).toBe(true)
    expect(await call(url, s.adminSk, 'getaccount', ['accts', pk])).toBe(null)
  })
})

describe('the default relay', () => {
  test('takes the standard methods, and its NIP-11 shows their effect', async () => {
    const c = await rawClient(s.wsUrl(''))
    expect(await call(s.httpUrl(''), s.adminSk, 'disallowkind', [7])).toBe(true)
    expect(await publish(c, signed({ kind: 7 }))).toEqual([false, 'blocked: events of kind 7 are not accepted here'])
    expect(((await nip11(s.wsUrl(''))).doc.limitation as Record<string, boolean>).restricted_writes).toBe(true)
    expect((await rpc(s.httpUrl(''), s.adminSk, 'updaterelay', ['', { meta: { maxClientFilters: 1 } }])).body.error).toMatch(/config file/)
    c.close()
  })
})
