// Every setting of the LNbits nostrrelay extension, enforced on a relay of its own (one test each),
// through real sockets; relays made and changed through NIP-86 as an LNbits fork would.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { now, signed } from '../helpers/clients.ts'
import { authAsEvent, call, createRelay, nip11, publish, query, rawClient, type RawClient, type RelaysServer, startRelaysServer } from './helpers.ts'

let s: RelaysServer

beforeAll(async () => {
  s = await startRelaysServer()
})
afterAll(async () => {
  expect(await s.server.stop()).toBe(0)
})

const opened: RawClient[] = []
async function relayWith(id: string, meta: Record<string, unknown>): Promise<RawClient> {
  await createRelay(s, id, { meta })
  return client(id)
}
async function client(id: string): Promise<RawClient> {
  const c = await rawClient(s.wsUrl(id))
  opened.push(c)
  return c
}
afterAll(() => {
  for (const c of opened) c.close()
})

const setAccount = (id: string, account: Record<string, unknown>) => call(s.httpUrl(id), s.adminSk, 'setaccount', [id, account])

/** Gets a challenge by an event the relay refuses with auth-required:, then answers it. */
async function authenticate(c: RawClient, sk: Uint8Array, kind: number, relayTag: string): Promise<void> {
  const [ok, reason] = await publish(c, signed({ kind }, sk))
  expect([ok, reason.split(':')[0]]).toEqual([false, 'auth-required'])
  expect(await authAsEvent(c, sk, relayTag)).toEqual([true, ''])
}

describe('per-relay settings', () => {
  test('name, description, pubkey and contact are the NIP-11 document’s', async () => {
    const pk = getPublicKey(generateSecretKey())
    await createRelay(s, 'info', { name: 'Info', description: 'about', pubkey: pk, contact: 'mailto:op@example.com' })
    expect((await nip11(s.wsUrl('info'))).doc).toMatchObject({ name: 'Info', description: 'about', pubkey: pk, contact: 'mailto:op@example.com' })
  })

  test('domain: AUTH (as an EVENT of kind 22242) must name that host in its relay tag', async () => {
    const c = await relayWith('dom', { domain: 'relay.example.com', forcedAuthEvents: [1] })
    const sk = generateSecretKey()
    const [ok, reason] = await publish(c, signed({}, sk))
    expect([ok, reason]).toEqual([false, 'auth-required: this relay requires authentication for events of kind 1'])
    expect(await authAsEvent(c, sk, 'wss://other.example.com/nostrrelay/dom')).toEqual([false, 'invalid: AUTH relay tag names another domain'])
    expect(await authAsEvent(c, sk, 'wss://relay.example.com/nostrrelay/dom')).toEqual([true, ''])
    expect(await publish(c, signed({}, sk))).toEqual([true, ''])
  })

  test('without a domain, AUTH must name this relay’s own URL, not another relay of the process', async () => {
    const c = await relayWith('nodom', { forcedAuthEvents: [1] })
    const sk = generateSecretKey()
    await publish(c, signed({}, sk))
    expect(await authAsEvent(c, sk, s.wsUrl(''))).toEqual([false, 'invalid: AUTH relay tag names another relay'])
    expect(await authAsEvent(c, sk, `${s.wsUrl('nodom')}/`)).toEqual([true, ''])
  })

  test('maxClientFilters counts the filters of all the connection’s subscriptions', async () => {
    const c = await relayWith('mcf', { maxClientFilters: 3 })
    c.send(['REQ', 'a', { kinds: [1] }, { kinds: [2] }])
    c.send(['REQ', 'b', { kinds: [3] }])
    await c.next((f) => f[0] === 'EOSE' && f[1] === 'b')
    c.send(['REQ', 'c', { kinds: [4] }])
    expect(await c.next((f) => f[1] === 'c')).toEqual(['CLOSED', 'c', "rate-limited: too many filters in this connection's subscriptions (max 3)"])
    const from = c.frames.length
    c.send(['REQ', 'a', { kinds: [1] }]) // replacing a subscription gives its filters back
    c.send(['REQ', 'c', { kinds: [4] }])
    expect(await c.next((f) => f[1] === 'c', 5000, from)).toEqual(['EOSE', 'c'])
  })

  test('limitPerFilter caps a filter’s limit and is the limit of a filter without one', async () => {
    const c = await relayWith('lpf', { limitPerFilter: 3 })
    const sk = generateSecretKey()
    for (let i = 0; i < 5; i++) expect(await publish(c, signed({ created_at: now() - 10 + i }, sk)))
    expect((await query(c, [{ kinds: [1] }])).ids).toHaveLength(3)
    expect((await query(c, [{ kinds: [1], limit: 10 }])).ids).toHaveLength(3)
    expect((await query(c, [{ kinds: [1], limit: 2 }])).ids).toHaveLength(2)
    expect(((await nip11(s.wsUrl('lpf'))).doc.limitation as Record<string, number>).max_limit).toBe(3)
  })

  test('maxEventsPerHour counts per connection', async () => {
    const c = await relayWith('mph', { maxEventsPerHour: 3 })
    for (let i = 0; i < 3; i++) expect((await publish(c, signed()))[0]).toBe(true)
    expect(await publish(c, signed())).toEqual([false, 'rate-limited: more than 3 events an hour'])
    expect((await publish(await client('mph'), signed()))[0]).toBe(true)
  })

  test('createdAt…Past bounds how old an event may be (0: no bound)', async () => {
    const c = await relayWith('past', { createdAtMinutesPast: 10 })
    expect(await publish(c, signed({ created_at: now() - 11 * 60 }))).toEqual([false, 'invalid: created_at is too far in the past'])
    expect((await publish(c, signed({ created_at: now() - 9 * 60 })))[0]).toBe(true)
    const free = await relayWith('nopast', {})
    expect((await publish(free, signed({ created_at: now() - 10 * 365 * 86400 })))[0]).toBe(true)
  })

  test('createdAt…Future bounds how far ahead an event may be', async () => {
    const c = await relayWith('future', { createdAtSecondsFuture: 30 })
    expect(await publish(c, signed({ created_at: now() + 120 }))).toEqual([false, 'invalid: created_at is too far in the future'])
    expect((await publish(c, signed({ created_at: now() + 10 })))[0]).toBe(true)
    expect(((await nip11(s.wsUrl('future'))).doc.limitation as Record<string, number>).created_at_upper_limit).toBe(30)
  })

  test('free storage per pubkey, full: prune drops the author’s oldest events', async () => {
    const c = await relayWith('prune', { freeStorageValue: 2, freeStorageUnit: 'KB', fullStorageAction: 'prune' })
    const sk = generateSecretKey()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const e = signed({ content: 'x'.repeat(500), created_at: now() - 10 + i }, sk)
      ids.push(e.id)
      expect(await publish(c, e)).toEqual([true, ''])
    }
    const kept = (await query(c, [{ authors: [getPublicKey(sk)] }])).ids
    expect(kept).toEqual(ids.slice(-kept.length).reverse())
    expect(kept.length).toBe(2) // ~850 bytes each in 2 KiB
  })

  test('free storage per pubkey, full: block refuses; storage bought through the account adds to it', async () => {
    const c = await relayWith('block', { freeStorageValue: 2, freeStorageUnit: 'KB', fullStorageAction: 'block' })
    const sk = generateSecretKey()
    const big = () => signed({ content: 'x'.repeat(500) + Math.random() }, sk)
    expect((await publish(c, big()))[0]).toBe(true)
    expect((await publish(c, big()))[0]).toBe(true)
    expect(await publish(c, big())).toEqual([false, 'blocked: storage quota for this pubkey is full (2048 bytes)'])
    await setAccount('block', { pubkey: getPublicKey(sk), storage: 2048 })
    expect((await publish(c, big()))[0]).toBe(true)
  })

  test('free storage 0 on a relay that is not paid: read-only (ephemeral events still pass, as in LNbits)', async () => {
    const c = await relayWith('ro', { freeStorageValue: 0 })
    expect(await publish(c, signed())).toEqual([false, 'blocked: this relay is read-only'])
    expect((await publish(c, signed({ kind: 20001 })))[0]).toBe(true)
    expect(((await nip11(s.wsUrl('ro'))).doc.limitation as Record<string, boolean>).restricted_writes).toBe(true)
  })

  test('paid relay: writing takes an account that paid to join or is allowed; blocked always wins', async () => {
    const c = await relayWith('paid', { isPaidRelay: true, costToJoin: 100, storageCostValue: 10 })
    const [payer, friend, banned] = [generateSecretKey(), generateSecretKey(), generateSecretKey()]
    expect(await publish(c, signed({}, payer))).toEqual([false, 'restricted: this is a paid relay: pay to join "paid" first'])
    await setAccount('paid', { pubkey: getPublicKey(payer), paid_to_join: true, sats: 100 })
    expect((await publish(c, signed({}, payer)))[0]).toBe(true)
    await setAccount('paid', { pubkey: getPublicKey(friend), allowed: true })
    expect((await publish(c, signed({}, friend)))[0]).toBe(true)
    await setAccount('paid', { pubkey: getPublicKey(banned), allowed: true, paidToJoin: true, blocked: true })
    expect(await publish(c, signed({}, banned))).toEqual([false, `blocked: pubkey ${getPublicKey(banned)} is not allowed on this relay`])
    const doc = (await nip11(s.wsUrl('paid'))).doc
    expect(doc.limitation).toMatchObject({ payment_required: true, restricted_writes: true })
    expect(doc.fees).toEqual({ admission: [{ amount: 100_000, unit: 'msats' }] })
    expect(doc.config).toMatchObject({ isPaidRelay: true, costToJoin: 100, storageCostValue: 10, storageCostUnit: 'MB' })
    const accounts = (await call(s.httpUrl('paid'), s.adminSk, 'listaccounts', ['paid'])) as Array<Record<string, unknown>>
    expect(accounts.find((a) => a.pubkey === getPublicKey(payer))).toEqual({
      relay_id: 'paid',
      pubkey: getPublicKey(payer),
      sats: 100,
      storage: 0,
      paid_to_join: true,
      allowed: false,
      blocked: false,
    })
  })

  test('requireAuthEvents: every kind needs AUTH but the skipped ones', async () => {
    const c = await relayWith('rae', { requireAuthEvents: true, skipedAuthEvents: [7] })
    const sk = generateSecretKey()
    expect((await publish(c, signed({ kind: 7 }, sk)))[0]).toBe(true)
    await authenticate(c, sk, 1, s.wsUrl('rae'))
    expect((await publish(c, signed({ kind: 1 }, sk)))[0]).toBe(true)
    expect(((await nip11(s.wsUrl('rae'))).doc.limitation as Record<string, boolean>).auth_required).toBe(true)
  })

  test('requireAuthFilter: a REQ without AUTH gets the challenge and no EOSE; after AUTH it is served; a blocked pubkey is not', async () => {
    const c = await relayWith('raf', { requireAuthFilter: true })
    c.send(['REQ', 'r', { kinds: [1] }])
    const challenge = await c.next((f) => f[0] === 'AUTH')
    expect(await c.next((f) => f[1] === 'r')).toEqual(['CLOSED', 'r', 'auth-required: this relay requires authentication to read'])
    expect(c.frames.some((f) => f[0] === 'EOSE')).toBe(false)
    expect(challenge[1]).toMatch(/^[0-9a-f]{32}$/)
    const sk = generateSecretKey()
    expect(await authAsEvent(c, sk, s.wsUrl('raf'))).toEqual([true, ''])
    expect((await query(c, [{ kinds: [1] }])).closed).toBeUndefined()
    const other = generateSecretKey()
    await setAccount('raf', { pubkey: getPublicKey(other), blocked: true })
    const d = await client('raf')
    d.send(['REQ', 'r', { kinds: [1] }])
    await d.next((f) => f[0] === 'CLOSED')
    expect(await authAsEvent(d, other, s.wsUrl('raf'))).toEqual([true, ''])
    expect((await query(d, [{ kinds: [1] }])).closed).toBe('restricted: your pubkey is not allowed on this relay')
  })

  test('kind 4 needing AUTH: a DM reaches only an authenticated reader it p-tags, live and stored', async () => {
    const id = 'dm'
    await createRelay(s, id, { meta: { forcedAuthEvents: [4] } })
    const [alice, bob, carol] = [generateSecretKey(), generateSecretKey(), generateSecretKey()]
    const [sender, bobC, carolC, anon] = await Promise.all([client(id), client(id), client(id), client(id)])
    await authenticate(sender, alice, 4, s.wsUrl(id))
    await authenticate(bobC, bob, 4, s.wsUrl(id))
    await authenticate(carolC, carol, 4, s.wsUrl(id))
    for (const r of [bobC, carolC, anon]) {
      r.send(['REQ', 'live', { kinds: [4] }])
      await r.next((f) => f[0] === 'EOSE' && f[1] === 'live')
    }
    const dm = signed({ kind: 4, content: 'secret?iv=x', tags: [['p', getPublicKey(bob)]] }, alice)
    expect(await publish(sender, dm)).toEqual([true, ''])
    expect((await bobC.next((f) => f[0] === 'EVENT' && f[1] === 'live'))[2]).toMatchObject({ id: dm.id })
    const note = signed({}, alice) // a later event on the same subscriptions: anything held back would come before it
    for (const r of [carolC, anon]) r.send(['REQ', 'after', { ids: [note.id] }])
    expect(await publish(sender, note)).toEqual([true, ''])
    for (const r of [carolC, anon]) {
      await r.next((f) => f[0] === 'EVENT' && f[1] === 'after')
      expect(r.frames.some((f) => f[0] === 'EVENT' && (f[2] as { id: string }).id === dm.id)).toBe(false)
    }
    expect((await query(bobC, [{ kinds: [4] }])).ids).toEqual([dm.id])
    expect((await query(carolC, [{ kinds: [4] }])).ids).toEqual([])
    expect((await query(anon, [{ ids: [dm.id] }])).ids).toEqual([])
    expect((await query(anon, [{ kinds: [1] }])).ids).toEqual([note.id])
  })

  test('two relays side by side keep their own settings', async () => {
    const strict = await relayWith('side-a', { freeStorageValue: 0 })
    const open = await relayWith('side-b', {})
    const e = signed()
    expect((await publish(strict, e))[0]).toBe(false)
    expect((await publish(open, e))[0]).toBe(true)
  })
})
