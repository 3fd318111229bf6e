// NIP-46 for user keys, through nostr-tools' BunkerSigner, NDK's NDKNip46Signer, Nostrify's
// NConnectSigner, and raw events where a library cannot say what we need to check.
import { describe, expect, test } from 'vitest'
import NDK, { NDKEvent, NDKNip46Signer, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk'
import { NConnectSigner, NRelay1, NSecSigner } from '@nostrify/nostrify'
import { BunkerSigner, type BunkerPointer } from 'nostr-tools/nip46'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import type { SimplePool } from 'nostr-tools/pool'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type Event } from 'nostr-tools/pure'
import { now, rawClient, withTimeout } from '../helpers/clients.ts'
import { aclResponder, STEP_MS, userBunkerUri, type AclReply, type AdminClient, type BunkerServer, useBunkerServer, npubToHex } from '../helpers/bunker.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
let policyId: string
useBunkerServer(async (f) => {
  ;({ b, pool, admin } = f)
  await admin.call('create_new_policy', [
    JSON.stringify({
      name: 'std',
      rules: [
        { method: 'sign_event', kind: 1 },
        { method: 'sign_event', kind: 7, use_count: 2 },
        { method: 'nip04_encrypt' },
        { method: 'nip04_decrypt' },
        { method: 'nip44_encrypt' },
        { method: 'nip44_decrypt' },
      ],
    }),
  ])
  policyId = String(JSON.parse(await admin.call('get_policies'))[0].id)
})

let counter = 0
/** A new key with one fresh token; returns the pointer a client gets (pubkey, relay, secret). */
async function keyWithToken(hours?: string): Promise<BunkerPointer & { name: string }> {
  const name = `k${counter++}`
  const { npub } = JSON.parse(await admin.call('create_new_key', [name, 'pw']))
  await admin.call('create_new_token', [name, 'app', policyId, ...(hours ? [hours] : [])])
  const [t] = JSON.parse(await admin.call('get_key_tokens', [name]))
  return { name, pubkey: npubToHex(npub), relays: [b.server.url], secret: t.token.split('#')[1] }
}

async function connected(bp: BunkerPointer, clientSk = generateSecretKey()): Promise<BunkerSigner> {
  const s = BunkerSigner.fromBunker(clientSk, bp, { pool })
  await withTimeout(s.connect(), STEP_MS, 'connect')
  return s
}

const call = <T>(p: Promise<T>, what: string) => withTimeout(p, STEP_MS, what)

describe('NIP-46 methods (nostr-tools BunkerSigner)', () => {
  test('get_public_key, ping, switch_relays', async () => {
    const bp = await keyWithToken()
    const s = await connected(bp)
    expect(await call(s.getPublicKey(), 'get_public_key')).toBe(bp.pubkey)
    expect(await call(s.sendRequest('ping', []), 'ping')).toBe('pong')
    expect(await call(s.sendRequest('switch_relays', []), 'switch_relays')).toBe('null')
    await s.close()
  })

  test('sign_event signs exactly the fields sent', async () => {
    const s = await connected(await keyWithToken())
    const template = {
      kind: 1,
      content: 'exact',
      tags: [
        ['t', 'a'],
        ['p', 'f'.repeat(64), 'wss://x', 'mention'],
      ],
      created_at: 1_700_000_000,
    }
    const ev = await call(s.signEvent(template), 'sign_event')
    expect(verifyEvent(ev)).toBe(true)
    expect({ kind: ev.kind, content: ev.content, tags: ev.tags, created_at: ev.created_at }).toEqual(template)
    await s.close()
  })

  test('kinds outside the policy are refused; use_count is enforced', async () => {
    const s = await connected(await keyWithToken())
    await expect(call(s.signEvent({ kind: 0, content: '{}', tags: [], created_at: now() }), 'kind 0')).rejects.toMatch(/not authorized|no admin/)
    await call(s.signEvent({ kind: 7, content: '+', tags: [], created_at: now() }), 'kind 7 #1')
    await call(s.signEvent({ kind: 7, content: '+', tags: [], created_at: now() }), 'kind 7 #2')
    await expect(call(s.signEvent({ kind: 7, content: '+', tags: [], created_at: now() }), 'kind 7 #3')).rejects.toMatch(/used up/)
    await s.close()
  })

  test('nip04 and nip44 encrypt/decrypt interoperate with a third party', async () => {
    const bp = await keyWithToken()
    const s = await connected(bp)
    const thirdSk = generateSecretKey()
    const third = getPublicKey(thirdSk)
    const c44 = await call(s.nip44Encrypt(third, 'hello 44'), 'nip44_encrypt')
    expect(nip44.decrypt(c44, nip44.getConversationKey(thirdSk, bp.pubkey))).toBe('hello 44')
    const c04 = await call(s.nip04Encrypt(third, 'hello 04'), 'nip04_encrypt')
    expect(nip04.decrypt(thirdSk, bp.pubkey, c04)).toBe('hello 04')
    expect(await call(s.nip44Decrypt(third, nip44.encrypt('back 44', nip44.getConversationKey(thirdSk, bp.pubkey))), 'nip44_decrypt')).toBe('back 44')
    expect(await call(s.nip04Decrypt(third, nip04.encrypt(thirdSk, bp.pubkey, 'back 04')), 'nip04_decrypt')).toBe('back 04')
    await expect(call(s.nip44Decrypt(third, 'garbage'), 'bad decrypt')).rejects.toMatch(/could not be processed/)
    await s.close()
  })

  test('unknown methods get an error reply', async () => {
    const s = await connected(await keyWithToken())
    await expect(call(s.sendRequest('get_relays', []), 'get_relays')).rejects.toMatch(/Unknown method get_relays/)
    await s.close()
  })

  test('logout forgets the session', async () => {
    const s = await connected(await keyWithToken())
    expect(await call(s.sendRequest('logout', []), 'logout')).toBe('ack')
    await expect(call(s.sendRequest('ping', []), 'ping after logout')).rejects.toMatch(/not/)
    await s.close()
  })
})

describe('tokens', () => {
  test('reconnecting with the token already redeemed by the same client gets ack; another client is refused', async () => {
    const bp = await keyWithToken()
    const clientSk = generateSecretKey()
    const first = await connected(bp, clientSk)
    await first.close()
    const again = await connected(bp, clientSk)
    await again.close()
    const other = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool })
    await expect(call(other.connect(), 'other client')).rejects.toMatch(/already redeemed/)
    await other.close()
    const [token] = JSON.parse(await admin.call('get_key_tokens', [bp.name]))
    expect(token.redeemed_at).not.toBeNull()
    expect(token.redeemed_by).toBe('app')
    const users = JSON.parse(await admin.call('get_key_users', [bp.name]))
    expect(users).toHaveLength(1)
    expect(users[0]).toMatchObject({ pubkey: getPublicKey(clientSk), description: 'app', revokedAt: null })
  })

  test('a token only opens the key it was made for', async () => {
    const a = await keyWithToken()
    const other = await keyWithToken()
    const s = BunkerSigner.fromBunker(generateSecretKey(), { ...other, secret: a.secret }, { pool })
    await expect(call(s.connect(), 'cross-key token')).rejects.toMatch(/invalid token/)
    await s.close()
  })

  test('an expired token is refused', async () => {
    const bp = await keyWithToken('0.0002') // 0.72 s
    await new Promise((r) => setTimeout(r, 1000))
    const s = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool })
    await expect(call(s.connect(), 'expired')).rejects.toMatch(/expired/)
    await s.close()
  })

  test('revoke_user ends the client’s access', async () => {
    const bp = await keyWithToken()
    const s = await connected(bp)
    const [user] = JSON.parse(await admin.call('get_key_users', [bp.name]))
    expect(await admin.call('revoke_user', [String(user.id)])).toBe('["ok"]')
    await expect(call(s.signEvent({ kind: 1, content: 'x', tags: [], created_at: now() }), 'after revoke')).rejects.toMatch(/revoked/)
    await s.close()
  })
})

describe('unknown clients and the admins’ acl answers', () => {
  async function plainKey() {
    const name = `acl${counter++}`
    const { npub } = JSON.parse(await admin.call('create_new_key', [name, 'pw']))
    return { name, pubkey: npubToHex(npub), relays: [b.server.url], secret: null }
  }

  test.each<[string, AclReply, RegExp | 'ack']>([
    ['always', ['always', 'laptop'], 'ack'],
    ['once', ['once'], 'ack'],
    ['never', ['never'], /not approved/],
    ['no answer (timeout)', null, /not approved/],
  ])('connect answered %s', async (_name, reply, expected) => {
    const responder = aclResponder(b, pool, () => reply)
    const bp = await plainKey()
    const s = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool })
    if (expected === 'ack') await call(s.connect(), 'connect')
    else await expect(call(s.connect(), 'connect')).rejects.toMatch(expected)
    expect(responder.asked.at(-1)).toMatchObject({ keyName: bp.name, method: 'connect' })
    await s.close()
    responder.close()
  })

  test('"always" with a kind grants that kind from then on; other kinds are asked again', async () => {
    let reply: AclReply = ['always', 'phone']
    const responder = aclResponder(b, pool, () => reply)
    const bp = await plainKey()
    const s = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool })
    await call(s.connect(), 'connect')
    reply = ['always', 'phone', { kind: '1' }]
    await call(s.signEvent({ kind: 1, content: 'a', tags: [], created_at: now() }), 'first kind 1')
    reply = ['never']
    await call(s.signEvent({ kind: 1, content: 'b', tags: [], created_at: now() }), 'second kind 1 needs no question')
    await expect(call(s.signEvent({ kind: 3, content: '', tags: [], created_at: now() }), 'kind 3')).rejects.toMatch(/not authorized/)
    await expect(call(s.signEvent({ kind: 3, content: '', tags: [], created_at: now() }), 'kind 3 again')).rejects.toMatch(/not allowed/)
    expect(responder.asked.map((q) => q.method)).toEqual(['connect', 'sign_event', 'sign_event'])
    await s.close()
    responder.close()
  })
})

describe('wire details', () => {
  /** Sends one raw request to a user key and returns the decrypted reply and its event. */
  async function rawRequest(bp: BunkerPointer, clientSk: Uint8Array, scheme: 'nip04' | 'nip44', body: object, createdAt = now()) {
    const c = await rawClient(b.server.url)
    const client = getPublicKey(clientSk)
    const text = JSON.stringify(body)
    const content = scheme === 'nip04' ? nip04.encrypt(clientSk, bp.pubkey, text) : nip44.encrypt(text, nip44.getConversationKey(clientSk, bp.pubkey))
    const req = finalizeEvent({ kind: 24133, created_at: createdAt, tags: [['p', bp.pubkey]], content }, clientSk)
    c.send(['REQ', 'r', { kinds: [24133], authors: [bp.pubkey], '#p': [client], limit: 0 }])
    c.send(['EVENT', req])
    const f = await c.next((f) => f[0] === 'EVENT' && f[1] === 'r')
    const ev = f[2] as Event
    const reply = ev.content.includes('?iv=')
      ? nip04.decrypt(clientSk, bp.pubkey, ev.content)
      : nip44.decrypt(ev.content, nip44.getConversationKey(clientSk, bp.pubkey))
    await c.next((f) => f[0] === 'OK' && f[1] === req.id)
    const start = c.frames.length
    c.send(['EVENT', req]) // the same request again
    const again = await c.next((f) => f[0] === 'OK' && f[1] === req.id, 5000, start)
    await new Promise((r) => setTimeout(r, 100))
    const replies = c.frames.filter((f) => f[0] === 'EVENT' && f[1] === 'r').length
    c.close()
    return { reply: JSON.parse(reply), event: ev, duplicate: again[3], replies }
  }

  test('a NIP-04 request gets a NIP-04 reply and a NIP-44 one a NIP-44 reply; replays are answered once', async () => {
    const bp = await keyWithToken()
    const clientSk = generateSecretKey()
    const s = await connected(bp, clientSk)
    await s.close()
    const r04 = await rawRequest(bp, clientSk, 'nip04', { id: 'a', method: 'ping', params: [] })
    expect(r04.event.content).toContain('?iv=')
    expect(r04.reply).toEqual({ id: 'a', result: 'pong' })
    expect(r04.duplicate).toMatch(/^duplicate:/)
    expect(r04.replies).toBe(1)
    const r44 = await rawRequest(bp, clientSk, 'nip44', { id: 'b', method: 'ping', params: [] })
    expect(r44.event.content).not.toContain('?iv=')
    expect(r44.reply).toEqual({ id: 'b', result: 'pong' })
  })

  test('an error reply carries result "error" and the message; stale requests are refused', async () => {
    const bp = await keyWithToken()
    const clientSk = generateSecretKey()
    const r = await rawRequest(bp, clientSk, 'nip44', { id: 'x', method: 'nope', params: [] })
    expect(r.reply).toEqual({ id: 'x', result: 'error', error: 'Unknown method nope' })
    const stale = await rawRequest(bp, clientSk, 'nip44', { id: 'y', method: 'ping', params: [] }, now() - 600)
    expect(stale.reply).toMatchObject({ id: 'y', result: 'error', error: expect.stringMatching(/time window/) })
  })
})

describe('other client libraries', () => {
  test('NDK NDKNip46Signer: bunker:// login with a token, then sign', async () => {
    const bp = await keyWithToken()
    const ndk = new NDK({ explicitRelayUrls: [b.server.url], enableOutboxModel: false })
    await withTimeout(ndk.connect(), STEP_MS, 'ndk connect')
    const signer = NDKNip46Signer.bunker(ndk, userBunkerUri(bp.pubkey, b.server.url, bp.secret!), NDKPrivateKeySigner.generate())
    const user = await withTimeout(signer.blockUntilReady(), STEP_MS, 'blockUntilReady')
    expect(user.pubkey).toBe(bp.pubkey)
    const ev = new NDKEvent(ndk, { kind: 1, content: 'from ndk', tags: [], created_at: now() } as never)
    await withTimeout(ev.sign(signer), STEP_MS, 'ndk sign')
    expect(verifyEvent(ev.rawEvent() as Event)).toBe(true)
    expect(ev.pubkey).toBe(bp.pubkey)
    for (const relay of ndk.pool.relays.values()) relay.disconnect()
  })

  test('Nostrify NConnectSigner: connect with the token, then sign, over NIP-44 and NIP-04', async () => {
    for (const encryption of ['nip44', 'nip04'] as const) {
      const bp = await keyWithToken()
      const relay = new NRelay1(b.server.url)
      const signer = new NConnectSigner({ relay, pubkey: bp.pubkey, signer: new NSecSigner(generateSecretKey()), timeout: STEP_MS, encryption })
      expect(await signer.connect(bp.secret!)).toBe('ack')
      expect(await signer.getPublicKey()).toBe(bp.pubkey)
      const ev = await signer.signEvent({ kind: 1, content: `nostrify ${encryption}`, tags: [], created_at: now() })
      expect(verifyEvent(ev as Event)).toBe(true)
      await expect(signer.signEvent({ kind: 0, content: '{}', tags: [], created_at: now() })).rejects.toThrow(/not authorized|no admin/)
      await relay.close()
    }
  })
})
