// Issue 12 through an upstream: a client that knows only the upstream's URL (a second nsecrelay
// behind a 30 ms proxy, which the bunker's bridge also goes through) runs nostr-tools'
// createAccount, whose connect goes to the new key the moment create_account's reply arrives, then
// signs. No sleeps; iterations run on 16 lanes at once. 1,000 iterations took 57 s on the shared
// 2-core machine (with the lead's suite and a benchmark running beside it).
//
// The provider is the admin identity, so create_account's reply is held on each upstream until the
// new key's REQ there is acknowledged (the bridge's rule for admin-signed events). A second nsecrelay
// makes a REQ live as soon as it reads it, and the bridge writes that REQ on the same socket before
// the reply, so there the run passes even without the hold; the lazy relay (REQs live 400 ms late,
// EOSE then) is what shows the hold is needed: its control, with no hold, loses the connects.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createAccount } from 'nostr-tools/nip46'
import { verifyEvent } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { STEP_MS } from '../helpers/bunker.ts'
import { DOMAINS, providerProfile, VAULT_SECRET } from '../helpers/accounts.ts'
import { LANES, rig, teardown, type Rig } from './lib/race.ts'
import { inLanes, metric, startUpstreamRelay } from './lib/setup.ts'

const ITERATIONS = 1000

describe('createAccount through a second nsecrelay behind a 30 ms proxy', () => {
  let r: Rig | undefined
  beforeAll(async () => {
    // the rig's first policy (id 1) allows sign_event; created accounts get it
    const accounts = { enabled: true, domains: DOMAINS, policyId: 1, perIpPerHour: 0, perHour: 0, maxPending: LANES }
    r = await rig(await startUpstreamRelay(), { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, accounts } }, { NSECRELAY_VAULT_SECRET: VAULT_SECRET })
  }, 60_000)
  afterAll(() => teardown(r))

  test(`createAccount -> immediate connect -> sign_event, ${ITERATIONS} times on ${LANES} lanes, zero lost`, async () => {
    const rg = r!
    const failures: string[] = []
    const pubkeys = new Set<string>()
    const started = Date.now()
    await inLanes(LANES, ITERATIONS, async (i) => {
      const profile = providerProfile(rg.b) // createAccount mutates its pointer: a fresh one per call
      profile.bunkerPointer.relays = [rg.proxy.url]
      try {
        // resolves only once the connect to the new key was acknowledged
        const signer = await withTimeout(createAccount(profile, { pool: rg.pool }, `up${i}`, DOMAINS[0]), 2 * STEP_MS, `createAccount #${i}`)
        try {
          const ev = await withTimeout(signer.signEvent({ kind: 1, content: `n${i}`, tags: [], created_at: now() }), STEP_MS, `sign_event #${i}`)
          if (!verifyEvent(ev) || ev.pubkey !== signer.bp.pubkey) failures.push(`#${i}: bad signature`)
          pubkeys.add(ev.pubkey)
        } finally {
          await signer.close()
        }
      } catch (err) {
        failures.push(`#${i}: ${err instanceof Error ? err.message : String(err)}`)
      }
    })
    console.log(`bridge accounts race: ${ITERATIONS} createAccount on ${LANES} lanes in ${Date.now() - started} ms`)
    expect(failures).toEqual([])
    expect(pubkeys.size).toBe(ITERATIONS)
    expect(await metric(rg.b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
  }, 240_000)
})
