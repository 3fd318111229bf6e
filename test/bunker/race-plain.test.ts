// The guarantee this project exists for (no token: the admins approve each new client): a client that connects right after
// create_new_key's reply is always heard. No sleeps anywhere; every step is bounded, and any
// timeout fails the test.
import { describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey } from 'nostr-tools/pure'
import { withTimeout } from '../helpers/clients.ts'
import { aclResponder, STEP_MS, type AdminClient, type BunkerServer, useBunkerServer, npubToHex } from '../helpers/bunker.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
useBunkerServer((f) => void ({ b, pool, admin } = f))

const ITERATIONS = 1000

describe('race-free registration', () => {
  test(`create_new_key -> immediate connect without a token: a reply every time (${ITERATIONS} times)`, async () => {
    const responder = aclResponder(b, pool, () => ['always', 'approved by test'])
    for (let i = 0; i < ITERATIONS; i++) {
      const name = `plain-${i}`
      const { npub } = JSON.parse(await admin.call('create_new_key', [name, `pass-${i}`]))
      const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [b.server.url], secret: null }, { pool })
      try {
        await withTimeout(signer.connect(), STEP_MS, `connect #${i}`)
      } finally {
        await signer.close()
      }
    }
    expect(responder.asked.filter((q) => q.method === 'connect')).toHaveLength(ITERATIONS)
    responder.close()
  }, 600_000)
})
