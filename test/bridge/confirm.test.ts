// What makes the bridge race-free is the per-upstream confirmation, shown against relays whose
// subscriptions go live late (test/bridge/lib/lazy-relay.ts, 400 ms after the REQ, on the bridge's
// connection only). A relay that also sends its EOSE late is handled by waiting for EOSE; a relay
// that sends EOSE before its listener is live needs the probe. Each case has its control: without
// the confirmation the same run loses connects.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey } from 'nostr-tools/pure'
import { withTimeout } from '../helpers/clients.ts'
import { fastPool, npubToHex, type AdminClient, type BunkerServer } from '../helpers/bunker.ts'
import { adminThrough, inLanes, metric, startBridged, startLazyRelay, type Child } from './lib/setup.ts'

const DELAY_MS = 400
/** A connect not answered within this is lost: kind 24133 is ephemeral, nobody resends it. */
const LOST_AFTER_MS = 2000

interface Bridged {
  b: BunkerServer
  admin: AdminClient
}

/** create_new_key through the upstream, then connect at once; returns how many were lost. */
async function lostConnects(x: Bridged, relay: string, pool: SimplePool, n: number, lanes: number, prefix: string): Promise<number> {
  let lost = 0
  await inLanes(lanes, n, async (i) => {
    const { npub } = JSON.parse(await x.admin.call('create_new_key', [`${prefix}-${i}`, 'pw']))
    const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [relay], secret: null }, { pool })
    try {
      await withTimeout(signer.connect(), LOST_AFTER_MS, `connect #${i}`)
    } catch {
      lost++
    } finally {
      await signer.close()
    }
  })
  return lost
}

function useLazyRelay(eose: 'late' | 'early', configs: Record<string, Record<string, unknown>>) {
  const ctx = {
    relay: undefined as Child | undefined,
    pool: undefined as SimplePool | undefined,
    bridged: {} as Record<string, Bridged>,
    servers: [] as BunkerServer[],
  }
  beforeAll(async () => {
    ctx.relay = await startLazyRelay(['--req-delay-ms', String(DELAY_MS), '--eose', eose])
    ctx.pool = await fastPool()
    const lazyUrl = `${ctx.relay.url}/?lazy=1`
    await Promise.all(
      Object.entries(configs).map(async ([name, bridge]) => {
        // autoApprove: a client's connect is acked without a token, so only the race is measured
        const b = await startBridged([lazyUrl], bridge, { bunker: { scryptLogN: 10, autoApprove: true } })
        ctx.servers.push(b)
        // Without a probe, a relay that acknowledges early fools the start-up wait as well: the
        // control's admin waits until the bridge's subscription is really live.
        if (eose === 'early' && bridge.confirm !== 'probe') await new Promise((r) => setTimeout(r, 2 * DELAY_MS))
        ctx.bridged[name] = { b, admin: await adminThrough(b, ctx.relay!.url, ctx.pool!) }
      }),
    )
  })
  afterAll(async () => {
    for (const x of Object.values(ctx.bridged)) await x.admin.close()
    for (const b of ctx.servers) await b.server.stop()
    ctx.pool?.destroy()
    await ctx.relay?.stop()
  })
  return ctx
}

describe(`an upstream whose REQs go live ${DELAY_MS} ms late, EOSE then`, () => {
  const ctx = useLazyRelay('late', { eose: { confirm: 'eose' }, none: { confirmTimeoutMs: 0 } })

  test('waiting for EOSE: 24 keys, each connected to at once, none lost', async () => {
    expect(await lostConnects(ctx.bridged.eose, ctx.relay!.url, ctx.pool!, 24, 4, 'late-eose')).toBe(0)
    expect(await metric(ctx.bridged.eose.b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
  }, 120_000)

  test('control, no hold (confirmTimeoutMs 0): the same connects are lost', async () => {
    expect(await lostConnects(ctx.bridged.none, ctx.relay!.url, ctx.pool!, 8, 4, 'late-none')).toBeGreaterThanOrEqual(6)
  }, 120_000)
})

describe(`an upstream that sends EOSE at once but goes live ${DELAY_MS} ms late`, () => {
  const ctx = useLazyRelay('early', { probe: { confirm: 'probe' }, eose: { confirm: 'eose' } })

  test('probe mode: 24 keys, each connected to at once, none lost; probes never reach the bunker', async () => {
    expect(await lostConnects(ctx.bridged.probe, ctx.relay!.url, ctx.pool!, 24, 4, 'early-probe')).toBe(0)
    const server = ctx.bridged.probe.b.server
    expect(await metric(server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
    // every request the bunker saw was a real one: 24 connects (plus the admin's own calls)
    expect(await metric(server, 'nsecrelay_bunker_requests_total', { method: 'connect' })).toBe(24 + 1)
  }, 120_000)

  test('control, EOSE alone: the same connects are lost', async () => {
    expect(await lostConnects(ctx.bridged.eose, ctx.relay!.url, ctx.pool!, 8, 4, 'early-eose')).toBeGreaterThanOrEqual(6)
  }, 120_000)
})
