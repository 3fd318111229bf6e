// The create -> connect race from the client's side (nsecbunkerd issue 9): nostr-tools' createAccount
// sends create_account and calls connect() on the new key the moment the reply arrives. No sleeps;
// every step is bounded, and any timeout fails the test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createAccount } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { verifyEvent } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, STEP_MS, type BunkerServer } from '../helpers/bunker.ts'
import { DOMAINS, providerProfile, startAccountsServer } from '../helpers/accounts.ts'

const ITERATIONS = 1000

let b: BunkerServer
let pool: SimplePool
beforeAll(async () => {
  b = await startAccountsServer({ policyId: 1, perIpPerHour: 0, perHour: 0 })
  pool = await fastPool()
  const admin = await bunkerSignerAdmin(b, pool)
  await admin.call('create_new_policy', [JSON.stringify({ name: 'accounts', rules: [{ method: 'sign_event', kind: 1 }] })])
  await admin.close()
})
afterAll(async () => {
  pool?.destroy()
  await b?.server.stop()
})

describe('race-free account creation', () => {
  test(`createAccount -> immediate connect -> sign_event, ${ITERATIONS} times, zero lost`, async () => {
    const started = performance.now()
    const pubkeys = new Set<string>()
    for (let i = 0; i < ITERATIONS; i++) {
      // createAccount resolves only once its connect was acknowledged
      const signer = await withTimeout(createAccount(providerProfile(b), { pool }, `user${i}`, DOMAINS[0]), STEP_MS, `createAccount #${i}`)
      try {
        const ev = await withTimeout(signer.signEvent({ kind: 1, content: `n${i}`, tags: [], created_at: now() }), STEP_MS, `sign_event #${i}`)
        expect(verifyEvent(ev) && ev.pubkey === signer.bp.pubkey).toBe(true)
        pubkeys.add(ev.pubkey)
      } finally {
        await signer.close()
      }
    }
    expect(pubkeys.size).toBe(ITERATIONS)
    console.log(`${ITERATIONS} accounts created, connected and signed with in ${Math.round(performance.now() - started)} ms`)
  }, 600_000)
})
