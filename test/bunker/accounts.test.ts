// The account provider against nostr-tools as a client uses it: fetchBunkerProviders (NIP-89, checked
// through NIP-05), createAccount (create_account, then connect at once on the same signer), login
// from name@domain; plus the names document, name rules, collisions and admin-set names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BunkerSigner, createAccount, fetchBunkerProviders, parseBunkerInput } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { aclResponder, bunkerSignerAdmin, fastPool, npubToHex, STEP_MS, type AdminClient, type BunkerServer } from '../helpers/bunker.ts'
import { askCreate, DOMAINS, getVia, providerProfile, routeNip05, startAccountsServer } from '../helpers/accounts.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient

beforeAll(async () => {
  b = await startAccountsServer({ policyId: 1, perIpPerHour: 0, perHour: 0 })
  pool = await fastPool()
  admin = await bunkerSignerAdmin(b, pool)
  // policy 1: what a creating client may do besides the session methods
  await admin.call('create_new_policy', [JSON.stringify({ name: 'accounts', rules: [{ method: 'sign_event' }, { method: 'nip44_encrypt' }] })])
  routeNip05(b.server.url)
})
afterAll(async () => {
  await admin?.close()
  pool?.destroy()
  await b?.server.stop()
})

const call = <T>(p: Promise<T>, what: string) => withTimeout(p, STEP_MS, what)
const nostrJson = async (name: string, domain = DOMAINS[0]) => {
  const r = await getVia(b.server.url, `https://${domain}/.well-known/nostr.json?name=${encodeURIComponent(name)}`)
  expect(r.status).toBe(200)
  expect(r.headers['access-control-allow-origin']).toBe('*')
  return JSON.parse(r.body)
}
const keyCount = async () => JSON.parse(await admin.call('get_keys')).length

describe('discovery', () => {
  test('fetchBunkerProviders lists the provider once per domain, checked against _@domain', async () => {
    const found = await call(fetchBunkerProviders(pool, [b.server.url]), 'fetchBunkerProviders')
    expect(found.map((p) => p.domain).sort()).toEqual([...DOMAINS].sort())
    for (const p of found) {
      expect(p.bunkerPointer.pubkey).toBe(b.bunker.pubkey)
      expect(p.bunkerPointer.relays).toEqual([b.server.url])
      expect(p.name).toBe('nsecrelay')
      expect(p.nip05).toBe(`_@${p.domain}`)
    }
  })

  test('nostr.json: the provider as _, both nip46 shapes; unknown names answer {"names":{}}', async () => {
    const doc = await nostrJson('_')
    expect(doc).toEqual({ names: { _: b.bunker.pubkey }, nip46: { [b.bunker.pubkey]: [b.server.url], relays: [b.server.url] } })
    expect(await nostrJson('nobody-here')).toEqual({ names: {} })
    expect(await nostrJson('NOT VALID!')).toEqual({ names: {} })
    const r = await getVia(b.server.url, `https://${DOMAINS[0]}/.well-known/nostr.json`)
    expect(JSON.parse(r.body)).toEqual({ names: {} })
  })
})

describe('createAccount', () => {
  test('creates the key, connects at once on the same signer, signs; the name resolves on its domain only', async () => {
    const clientSk = generateSecretKey()
    const signer = await call(createAccount(providerProfile(b), { pool }, 'alice', DOMAINS[0], 'alice@mail.test', clientSk), 'createAccount')
    const pubkey = signer.bp.pubkey
    expect(pubkey).toMatch(/^[0-9a-f]{64}$/)
    expect(pubkey).not.toBe(b.bunker.pubkey)
    const ev = await call(signer.signEvent({ kind: 1, content: 'hi', tags: [], created_at: now() }), 'sign_event')
    expect(verifyEvent(ev)).toBe(true)
    expect(ev.pubkey).toBe(pubkey)
    expect(await call(signer.getPublicKey(), 'get_public_key')).toBe(pubkey)
    await signer.close()

    expect(await nostrJson('alice')).toEqual({ names: { alice: pubkey }, nip46: { [pubkey]: [b.server.url], relays: [b.server.url] } })
    expect(await nostrJson('ALICE')).toEqual({ names: { alice: pubkey }, nip46: { [pubkey]: [b.server.url], relays: [b.server.url] } })
    expect(await nostrJson('alice', DOMAINS[1])).toEqual({ names: {} })

    const [user] = JSON.parse(await admin.call('get_key_users', [`alice@${DOMAINS[0]}`]))
    expect(user.pubkey).toBe(getPublicKey(clientSk))
    expect(user.signingConditions.map((c: { method: string }) => c.method).sort()).toEqual(['nip44_encrypt', 'sign_event'])
  })

  test('BunkerSigner logs in from name@domain: the creator at once, another client once an admin approves', async () => {
    const clientSk = generateSecretKey()
    const created = await call(createAccount(providerProfile(b, DOMAINS[1]), { pool }, 'bob', DOMAINS[1], undefined, clientSk), 'createAccount')
    await created.close()
    const bp = await call(parseBunkerInput(`bob@${DOMAINS[1]}`), 'parseBunkerInput')
    expect(bp).toEqual({ pubkey: created.bp.pubkey, relays: [b.server.url], secret: null })

    const again = BunkerSigner.fromBunker(clientSk, bp!, { pool })
    await call(again.connect(), 'connect (creator)')
    expect(verifyEvent(await call(again.signEvent({ kind: 1, content: 'direct', tags: [], created_at: now() }), 'sign_event'))).toBe(true)
    await again.close()

    const acl = aclResponder(b, pool, () => ['always'])
    const other = BunkerSigner.fromBunker(generateSecretKey(), bp!, { pool })
    try {
      await call(other.connect(), 'connect (other client)')
      expect(await call(other.getPublicKey(), 'get_public_key')).toBe(created.bp.pubkey)
      expect(acl.asked.map((q) => q.method)).toEqual(['connect'])
    } finally {
      acl.close()
      await other.close()
    }
  })

  test('20 clients asking for the same name at once: exactly one wins, the rest are told it is taken', async () => {
    const before = await keyCount()
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => askCreate(b, pool, ['carol', DOMAINS[0]])))
    const won = results.filter((r) => r.status === 'fulfilled')
    expect(won).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBe(`duplicate: carol@${DOMAINS[0]} is taken`)
    expect(await keyCount()).toBe(before + 1)
    expect((await nostrJson('carol')).names.carol).toBe((won[0] as PromiseFulfilledResult<string>).value)
  })

  test('refusals change nothing: bad names, reserved names, unknown domains, bad email, a taken name', async () => {
    const before = await keyCount()
    const refused: Array<[string[], RegExp]> = [
      [['', DOMAINS[0]], /^invalid: /],
      [['has space', DOMAINS[0]], /^invalid: /],
      [['émile', DOMAINS[0]], /^invalid: /],
      [['x'.repeat(65), DOMAINS[0]], /^invalid: /],
      [['-leading', DOMAINS[0]], /^invalid: .*does not match/],
      [['_', DOMAINS[0]], /^invalid: that name is reserved/],
      [['admin', DOMAINS[0]], /^invalid: that name is reserved/],
      [['dave', 'elsewhere.test'], /^invalid: .*domain/],
      [['dave', ''], /^invalid: .*domain/],
      [['dave', DOMAINS[0], 'not an email'], /^invalid: .*email/],
      [['alice', DOMAINS[0]], /^duplicate: /],
    ]
    for (const [params, error] of refused) await expect(askCreate(b, pool, params), params.join(' ')).rejects.toMatch(error)
    expect(await keyCount()).toBe(before)
    expect(await nostrJson('dave')).toEqual({ names: {} })
  })
})

describe('names set by admins', () => {
  test('set_key_name, get_key_names, remove_key_name; delete_key frees the name', async () => {
    const { npub } = JSON.parse(await admin.call('create_new_key', ['team', 'pw']))
    const pubkey = npubToHex(npub)
    expect(await admin.call('set_key_name', ['team', `Team@${DOMAINS[1]}`])).toBe('["ok"]')
    expect(await admin.call('set_key_name', ['team', `team@${DOMAINS[1]}`])).toBe('["ok"]') // idempotent
    expect((await nostrJson('team', DOMAINS[1])).names).toEqual({ team: pubkey })
    await expect(admin.call('set_key_name', ['team', `alice@${DOMAINS[0]}`])).rejects.toMatch(/taken/)
    await expect(admin.call('set_key_name', ['team', 'team@elsewhere.test'])).rejects.toMatch(/serves no names/)
    await expect(admin.call('set_key_name', ['team', `_@${DOMAINS[0]}`])).rejects.toMatch(/provider/)
    await expect(admin.call('set_key_name', ['nokey', `x@${DOMAINS[0]}`])).rejects.toMatch(/no key/)
    const names = JSON.parse(await admin.call('get_key_names', ['team']))
    expect(names).toEqual([{ name: `team@${DOMAINS[1]}`, key: 'team', npub, createdAt: expect.any(String), by: 'admin' }])

    expect(await admin.call('remove_key_name', [`team@${DOMAINS[1]}`])).toBe('["ok"]')
    expect(await nostrJson('team', DOMAINS[1])).toEqual({ names: {} })

    // an account's name goes with its key
    const created = await askCreate(b, pool, ['erin', DOMAINS[0]])
    expect((await nostrJson('erin')).names.erin).toBe(created)
    expect(await admin.call('delete_key', [`erin@${DOMAINS[0]}`])).toBe('["ok"]')
    expect(await nostrJson('erin')).toEqual({ names: {} })
    expect(await askCreate(b, pool, ['erin', DOMAINS[0]])).not.toBe(created)
  })
})

describe('restart', () => {
  test('account keys come back unlocked (vault), with their names and users', async () => {
    const clientSk = generateSecretKey()
    const signer = await call(createAccount(providerProfile(b), { pool }, 'frank', DOMAINS[0], undefined, clientSk), 'createAccount')
    const pubkey = signer.bp.pubkey
    await signer.close()
    await admin.close()
    expect(await b.server.stop()).toBe(0)
    const data = b.server.data
    b = await startAccountsServer({ policyId: 1, perIpPerHour: 0, perHour: 0 }, { data, adminSk: b.adminSk })
    admin = await bunkerSignerAdmin(b, pool)
    routeNip05(b.server.url)
    expect(await nostrJson('frank')).toEqual({ names: { frank: pubkey }, nip46: { [pubkey]: [b.server.url], relays: [b.server.url] } })
    const [key] = JSON.parse(await admin.call('get_keys')).filter((k: { name: string }) => k.name === `frank@${DOMAINS[0]}`)
    expect(key.npub).toBeDefined() // unlocked
    const again = BunkerSigner.fromBunker(clientSk, { pubkey, relays: [b.server.url], secret: null }, { pool })
    await call(again.connect(), 'connect after restart')
    expect((await call(again.signEvent({ kind: 1, content: 'after', tags: [], created_at: now() }), 'sign_event')).pubkey).toBe(pubkey)
    await again.close()
  })
})
