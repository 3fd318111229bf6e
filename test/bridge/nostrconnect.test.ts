// nostrconnect:// end to end: a client shows a URI naming a relay the bunker has never used; the
// admin hands it to connect_nostrconnect; the bridge opens that relay for the key and sends the
// connect response there only once its subscription for the key is live, so the client's first
// request is heard. The relay (lazy-relay.ts) makes the bridge's subscriptions go live 300 ms late:
// the bunker is given the URI with the relay's `?lazy=1` address, the client the plain one (one
// relay process, two ways in). Bad URIs are refused and change nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import NDK, { NDKEvent, NDKNip46Signer, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk'
import { BunkerSigner, createNostrConnectURI } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, getPublicKey, verifyEvent, type Event } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, npubToHex, STEP_MS, type AdminClient, type BunkerServer } from '../helpers/bunker.ts'
import { tempDir, type ServerProcess } from '../helpers/server.ts'
import { metric, startBridged, startLazyRelay, startUpstreamRelay, type Child } from './lib/setup.ts'

let upstream: ServerProcess
let lazy: Child
let b: BunkerServer
let pool: SimplePool
let admin: AdminClient

beforeAll(async () => {
  ;[upstream, lazy] = await Promise.all([startUpstreamRelay(), startLazyRelay(['--req-delay-ms', '300', '--eose', 'late'])])
  b = await startBridged([upstream.url])
  pool = await fastPool()
  admin = await bunkerSignerAdmin(b, pool)
})
afterAll(async () => {
  await admin.close()
  pool.destroy()
  await b.server.stop()
  await lazy.stop()
  await upstream.stop()
})

const uri = (clientSk: Uint8Array, relay: string, secret: string, perms?: string) =>
  createNostrConnectURI({ clientPubkey: getPublicKey(clientSk), relays: [relay], secret, perms: perms?.split(','), name: 'test client' })

describe('nostrconnect://', () => {
  test('nostr-tools BunkerSigner.fromURI through a relay the bunker did not know: connect, then sign at once, 8 fresh keys', async () => {
    for (let i = 0; i < 8; i++) {
      const { npub } = JSON.parse(await admin.call('create_new_key', [`nc-${i}`, 'pw']))
      const clientSk = generateSecretKey()
      const secret = `s3cret-${i}`
      const pending = BunkerSigner.fromURI(clientSk, uri(clientSk, lazy.url, secret), { pool, skipSwitchRelays: true }, 10_000)
      const result = JSON.parse(await admin.call('connect_nostrconnect', [`nc-${i}`, uri(clientSk, `${lazy.url}/?lazy=1`, secret, 'sign_event:1')]))
      expect(result).toMatchObject({ pubkey: npubToHex(npub), client: getPublicKey(clientSk), linked: [`${lazy.url}/?lazy=1`] })
      const signer = await withTimeout(pending, 10_000, `fromURI #${i}`)
      const ev = await withTimeout(signer.signEvent({ kind: 1, content: `nc ${i}`, tags: [], created_at: now() }), STEP_MS, `sign #${i}`)
      expect(verifyEvent(ev) && ev.pubkey === npubToHex(npub)).toBe(true)
      // the URI's perms were granted, nothing more
      await expect(withTimeout(signer.signEvent({ kind: 0, content: '{}', tags: [], created_at: now() }), STEP_MS, 'kind 0')).rejects.toThrow(
        /not authorized|approved/,
      )
      await signer.close()
    }
    expect(await metric(b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
    // one new upstream for all of them, healthy
    expect(await metric(b.server, 'nsecrelay_bridge_upstream_state', { upstream: `${lazy.url}/?lazy=1` })).toBe(3)
  }, 120_000)

  test('NDK NDKNip46Signer.nostrconnect, with a policy instead of the URI’s perms', async () => {
    await admin.call('create_new_policy', [JSON.stringify({ name: 'nc-policy', rules: [{ method: 'sign_event', kind: 1 }] })])
    const policies = JSON.parse(await admin.call('get_policies'))
    const policyId = String(policies.at(-1).id)
    const { npub } = JSON.parse(await admin.call('create_new_key', ['nc-ndk', 'pw']))
    const ndk = new NDK({ explicitRelayUrls: [lazy.url], enableOutboxModel: false })
    await withTimeout(ndk.connect(), STEP_MS, 'ndk connect')
    try {
      const signer = NDKNip46Signer.nostrconnect(ndk, lazy.url, NDKPrivateKeySigner.generate(), { name: 'ndk test' })
      const ready = withTimeout(signer.blockUntilReady(), 10_000, 'ndk blockUntilReady')
      const bunkerUri = signer.nostrConnectUri!.replace(encodeURIComponent(lazy.url), encodeURIComponent(`${lazy.url}/?lazy=1`))
      await admin.call('connect_nostrconnect', ['nc-ndk', bunkerUri, policyId])
      expect((await ready).pubkey).toBe(npubToHex(npub))
      const ev = new NDKEvent(ndk, { kind: 1, content: 'ndk nostrconnect', tags: [], created_at: now() } as never)
      await withTimeout(ev.sign(signer), STEP_MS, 'ndk sign')
      expect(verifyEvent(ev.rawEvent() as Event) && ev.pubkey === npubToHex(npub)).toBe(true)
      signer.stop()
    } finally {
      for (const relay of ndk.pool.relays.values()) relay.disconnect()
    }
  }, 60_000)

  test('bad URIs and bad arguments get a clear error and change nothing', async () => {
    await admin.call('create_new_key', ['nc-bad', 'pw'])
    const users = async () => JSON.parse(await admin.call('get_key_users', ['nc-bad'])).length
    const upstreams = async () =>
      (await (await fetch(`${b.server.url.replace('ws://', 'http://')}/metrics`)).text()).match(/^nsecrelay_bridge_upstream_state\{/gm)!.length
    const [usersBefore, upstreamsBefore] = [await users(), await upstreams()]
    const client = getPublicKey(generateSecretKey())
    const cases: Array<[string[], RegExp]> = [
      [['nc-bad', 'bunker://abc'], /not a nostrconnect/],
      [['nc-bad', `nostrconnect://${client}?secret=x`], /names no relay/],
      [['nc-bad', `nostrconnect://${client}?relay=http%3A%2F%2Fexample.com&secret=x`], /not a ws/],
      [['nc-bad', `nostrconnect://${client}?relay=ws%3A%2F%2F127.0.0.1%3A1`], /no usable secret/],
      [['nc-bad', `nostrconnect://${client}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=x&perms=steal_keys`], /unknown permission/],
      [['nc-bad', `nostrconnect://${client}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=x&perms=sign_event%3Aforty`], /bad kind/],
      [['nc-bad', `nostrconnect://${client}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=x`, '999'], /no policy/],
      [['nc-missing', `nostrconnect://${client}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=x`], /no key named/],
      [
        ['nc-bad', `nostrconnect://${client}?${Array.from({ length: 9 }, (_, i) => `relay=ws%3A%2F%2F127.0.0.1%3A${i + 1}`).join('&')}&secret=x`],
        /more than 8/,
      ],
    ]
    for (const [params, error] of cases) await expect(admin.call('connect_nostrconnect', params), params[1]).rejects.toThrow(error)
    expect(await users()).toBe(usersBefore)
    expect(await upstreams()).toBe(upstreamsBefore)
  })
})

describe('nostrconnect relays are remembered', () => {
  test('after a restart (keys back unlocked by the vault), the client on its own relay is heard at once', async () => {
    const opts = { data: tempDir(), adminSk: generateSecretKey(), env: { NSECRELAY_VAULT_SECRET: 'vault secret for the bridge test' } }
    let server = await startBridged([], {}, {}, opts)
    const admin2 = await bunkerSignerAdmin(server, pool)
    const { npub } = JSON.parse(await admin2.call('create_new_key', ['persist', 'pw']))
    const clientSk = generateSecretKey()
    const pending = BunkerSigner.fromURI(clientSk, uri(clientSk, lazy.url, 'persist-secret'), { pool, skipSwitchRelays: true }, 10_000)
    await admin2.call('connect_nostrconnect', ['persist', uri(clientSk, `${lazy.url}/?lazy=1`, 'persist-secret', 'sign_event')])
    const signer = await withTimeout(pending, 10_000, 'fromURI')
    await withTimeout(signer.signEvent({ kind: 1, content: 'before', tags: [], created_at: now() }), STEP_MS, 'sign before')
    await admin2.close()
    await server.server.stop()
    server = await startBridged([], {}, {}, opts) // the bunker:// line comes once the remembered relay listens again
    try {
      const ev = await withTimeout(signer.signEvent({ kind: 1, content: 'after', tags: [], created_at: now() }), STEP_MS, 'sign after the restart')
      expect(ev.pubkey).toBe(npubToHex(npub))
    } finally {
      await signer.close()
      await server.server.stop()
    }
  }, 60_000)
})
