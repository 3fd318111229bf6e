// The guarantee this project exists for (the LNbits flow, with a token): a client that connects right after
// create_new_key's reply is always heard. No sleeps anywhere; every step is bounded, and any
// timeout fails the test.
import { describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, verifyEvent } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { STEP_MS, type AdminClient, type BunkerServer, useBunkerServer, npubToHex } from '../helpers/bunker.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
useBunkerServer((f) => void ({ b, pool, admin } = f))

const ITERATIONS = 1000

describe('race-free registration', () => {
  test(`create_new_key -> token -> immediate connect with the token -> sign_event, ${ITERATIONS} times, zero lost`, async () => {
    const policyId = '1'
    expect(await admin.call('create_new_policy', [JSON.stringify({ name: 'login', rules: [{ method: 'sign_event' }] })])).toBe('["ok"]')
    let lost = 0
    for (let i = 0; i < ITERATIONS; i++) {
      const name = `token-${i}`
      const { npub } = JSON.parse(await admin.call('create_new_key', [name, `pass-${i}`]))
      await admin.call('create_new_token', [name, `client-${i}`, policyId])
      const [token] = JSON.parse(await admin.call('get_key_tokens', [name]))
      const secret = token.token.split('#')[1]
      const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [b.server.url], secret }, { pool })
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
