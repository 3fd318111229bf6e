// Issue 12 through an upstream: a client that knows only the upstream's URL (a second nsecrelay
// behind a 30 ms proxy, which the bunker's bridge also goes through) runs nostr-tools'
// createAccount, whose connect goes to the new key the moment create_account's reply arrives, then
// signs. No sleeps; iterations run on 16 lanes at once. 1,000 iterations took 57 s on the shared
// 2-core machine, beside the lead's suite and a benchmark (ACCOUNTS_UPSTREAM_N runs fewer).
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
import { DOMAINS, getVia, providerProfile, VAULT_SECRET } from '../helpers/accounts.ts'
import { LANES, rig, teardown, type Rig } from './lib/race.ts'
import type { SimplePool } from 'nostr-tools/pool'
import { fastPool, STEP_MS, type BunkerServer } from '../helpers/bunker.ts'
import { inLanes, metric, startBridged, startLazyRelay, startUpstreamRelay, type Child } from './lib/setup.ts'

const ITERATIONS = Number(process.env.ACCOUNTS_UPSTREAM_N ?? 1000)
const ACCOUNTS = (maxPending: number, policyId?: number) => ({ enabled: true, domains: DOMAINS, policyId, perIpPerHour: 0, perHour: 0, maxPending })
const ENV = { NSECRELAY_VAULT_SECRET: VAULT_SECRET }

/** createAccount to `provider` through the upstream, then sign_event as the new key. */
async function accountIteration(rg: Rig, provider: string, name: string, failures: string[], pubkeys: Set<string>): Promise<void> {
  const profile = providerProfile(rg.b) // createAccount mutates its pointer: a fresh one per call
  profile.bunkerPointer = { pubkey: provider, relays: [rg.proxy.url], secret: null }
  try {
    // resolves only once the connect to the new key was acknowledged
    const signer = await withTimeout(createAccount(profile, { pool: rg.pool }, name, DOMAINS[0]), 2 * STEP_MS, `createAccount ${name}`)
    try {
      const ev = await withTimeout(signer.signEvent({ kind: 1, content: name, tags: [], created_at: now() }), STEP_MS, `sign_event ${name}`)
      if (!verifyEvent(ev) || ev.pubkey !== signer.bp.pubkey) failures.push(`${name}: bad signature`)
      pubkeys.add(ev.pubkey)
    } finally {
      await signer.close()
    }
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The NIP-89 events by `author` the upstream holds, by domain. */
async function announcedDomains(rg: Rig, author: string): Promise<string[]> {
  const events = await rg.pool.querySync([rg.proxy.url], { kinds: [31990], authors: [author] }, { maxWait: STEP_MS })
  return events.map((e) => e.tags.find((t) => t[0] === 'd')?.[1] ?? '').sort()
}

describe('createAccount through a second nsecrelay behind a 30 ms proxy', () => {
  let r: Rig | undefined
  beforeAll(async () => {
    // the rig's first policy (id 1) allows sign_event; created accounts get it
    r = await rig(await startUpstreamRelay(), { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, accounts: ACCOUNTS(LANES, 1) } }, ENV)
  }, 60_000)
  afterAll(() => teardown(r))

  test('the NIP-89 announcement (kind 31990, one per domain) reached the upstream', async () => {
    // the bridge queued it before the admin's connect reply, on the same socket: it is there by now
    expect(await announcedDomains(r!, r!.b.bunker.pubkey)).toEqual([...DOMAINS].sort())
  })

  test(`createAccount -> immediate connect -> sign_event, ${ITERATIONS} times on ${LANES} lanes, zero lost`, async () => {
    const rg = r!
    const failures: string[] = []
    const pubkeys = new Set<string>()
    const started = Date.now()
    await inLanes(LANES, ITERATIONS, (i) => accountIteration(rg, rg.b.bunker.pubkey, `up${i}`, failures, pubkeys))
    console.log(`bridge accounts race: ${ITERATIONS} createAccount on ${LANES} lanes in ${Date.now() - started} ms`)
    expect(failures).toEqual([])
    expect(pubkeys.size).toBe(ITERATIONS)
    expect(await metric(rg.b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
  }, 240_000)
})

describe('a provider key of its own (bunker.accounts.provider "own") through the upstream', () => {
  const N = 64
  let r: Rig | undefined
  let provider = ''
  beforeAll(async () => {
    const accounts = { ...ACCOUNTS(LANES, 1), provider: 'own' }
    r = await rig(await startUpstreamRelay(), { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, accounts } }, ENV)
    const doc = await getVia(r.b.server.url, `https://${DOMAINS[0]}/.well-known/nostr.json?name=_`)
    provider = JSON.parse(doc.body).names._
    expect(provider).not.toBe(r.b.bunker.pubkey)
  }, 60_000)
  afterAll(() => teardown(r))

  test('its NIP-89 announcement reached the upstream', async () => {
    expect(await announcedDomains(r!, provider)).toEqual([...DOMAINS].sort())
  })

  test(`createAccount to it -> immediate connect -> sign_event, ${N} times on ${LANES} lanes, zero lost`, async () => {
    const failures: string[] = []
    const pubkeys = new Set<string>()
    await inLanes(LANES, N, (i) => accountIteration(r!, provider, `own${i}`, failures, pubkeys))
    expect(failures).toEqual([])
    expect(pubkeys.size).toBe(N)
    expect(await metric(r!.b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
  }, 120_000)
})

const DELAY_MS = 400
/** A connect not answered within this is lost: kind 24133 is ephemeral, nobody resends it. */
const LOST_AFTER_MS = 2000

/** createAccount through `relay` (the reply is there, then connect at once); how many never finished. */
async function lostAccounts(b: BunkerServer, relay: string, pool: SimplePool, n: number, prefix: string): Promise<number> {
  let lost = 0
  await inLanes(4, n, async (i) => {
    const profile = providerProfile(b)
    profile.bunkerPointer.relays = [relay]
    try {
      const signer = await withTimeout(createAccount(profile, { pool }, `${prefix}${i}`, DOMAINS[0]), STEP_MS + LOST_AFTER_MS, `createAccount #${i}`)
      await signer.close()
    } catch {
      lost++
    }
  })
  return lost
}

describe(`createAccount through an upstream whose REQs go live ${DELAY_MS} ms late, EOSE then`, () => {
  let relay: Child | undefined
  let pool: SimplePool | undefined
  const servers: Record<string, BunkerServer> = {}
  beforeAll(async () => {
    relay = await startLazyRelay(['--req-delay-ms', String(DELAY_MS), '--eose', 'late'])
    pool = await fastPool()
    const bunker = { scryptLogN: 10, accounts: ACCOUNTS(8) } // no policy: connect needs none
    for (const [name, bridge] of Object.entries({ held: {}, none: { confirmTimeoutMs: 0 } }))
      servers[name] = await startBridged([`${relay.url}/?lazy=1`], bridge, { bunker }, { env: ENV })
  }, 60_000)
  afterAll(async () => {
    for (const b of Object.values(servers)) await b.server.stop()
    pool?.destroy()
    await relay?.stop()
  })

  test('held until the new key is confirmed: 24 accounts, each connect answered', async () => {
    expect(await lostAccounts(servers.held, relay!.url, pool!, 24, 'held')).toBe(0)
    expect(await metric(servers.held.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
  }, 120_000)

  test('control, no hold (confirmTimeoutMs 0): the same connects are lost', async () => {
    expect(await lostAccounts(servers.none, relay!.url, pool!, 8, 'none')).toBeGreaterThanOrEqual(6)
  }, 120_000)
})
