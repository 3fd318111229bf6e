// The bunker on a hosted relay (relays.bunker, as nsecbunkerd issue 9's provisioning flow runs over an
// LNbits relay): its bunker:// strings name that relay's URL, it answers there and only there, and the
// whole create_new_key -> token -> connect chain stays race-free, 1,000 times.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, verifyEvent } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { type AdminClient, type BunkerServer, bunkerSignerAdmin, fastPool, npubToHex, STEP_MS, startBunkerServer } from '../helpers/bunker.ts'
import { nip11, rpc } from './helpers.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
let relayUrl: string

beforeAll(async () => {
  b = await startBunkerServer({ config: { relays: { bunker: 'lnbits1' } } })
  relayUrl = `${b.server.url}/nostrrelay/lnbits1`
  pool = await fastPool()
  admin = await bunkerSignerAdmin(b, pool)
})
afterAll(async () => {
  await admin?.close()
  pool?.destroy()
  expect(await b.server.stop()).toBe(0)
})

const ITERATIONS = 1000

describe('the bunker on a non-default relay', () => {
  test('bunker:// names that relay, which is made with LNbits defaults and lists NIP-46; "/" does not', async () => {
    expect(b.bunker.relays).toEqual([relayUrl])
    const doc = (await nip11(relayUrl)).doc
    expect(doc).toMatchObject({ id: 'lnbits1', config: { freeStorageValue: 1, limitPerFilter: 1000 } })
    expect(doc.supported_nips).toContain(46)
    expect((await nip11(b.server.url)).doc.supported_nips).not.toContain(46)
    expect(await admin.call('ping')).toBe('ok')
  })

  test('the bunker’s relay can be neither deleted nor switched off', async () => {
    const url = b.server.url.replace(/^ws/, 'http')
    expect((await rpc(url, b.adminSk, 'deleterelay', ['lnbits1'])).body.error).toBe('invalid: relay "lnbits1" cannot be deleted: the bunker runs on it')
    expect((await rpc(url, b.adminSk, 'disablerelay', ['lnbits1'])).body.error).toMatch(/cannot be switched off: the bunker runs on it/)
  })

  test(`create_new_key -> token -> immediate connect with the token -> sign_event, ${ITERATIONS} times, zero lost`, async () => {
    expect(await admin.call('create_new_policy', [JSON.stringify({ name: 'login', rules: [{ method: 'sign_event' }] })])).toBe('["ok"]')
    let lost = 0
    for (let i = 0; i < ITERATIONS; i++) {
      const name = `lnb-${i}`
      const { npub } = JSON.parse(await admin.call('create_new_key', [name, `pass-${i}`]))
      await admin.call('create_new_token', [name, `client-${i}`, '1'])
      const [token] = JSON.parse(await admin.call('get_key_tokens', [name]))
      const [tokenNpub, secret] = token.token.split('#')
      expect(tokenNpub).toBe(npub)
      const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [relayUrl], secret }, { pool })
      try {
        await withTimeout(signer.connect(), STEP_MS, `connect #${i}`)
        const ev = await withTimeout(signer.signEvent({ kind: 1, content: `n${i}`, tags: [], created_at: now() }), STEP_MS, `sign_event #${i}`)
        if (!verifyEvent(ev) || ev.pubkey !== npubToHex(npub)) lost++
      } catch (err) {
        lost++
        throw err
      } finally {
        await signer.close()
      }
    }
    expect(lost).toBe(0)
  }, 600_000)
})
