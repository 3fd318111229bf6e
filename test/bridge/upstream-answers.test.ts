// How the bridge meets an upstream's refusals: `auth-required:` (for its REQs and its events) by
// NIP-42 AUTH as the bunker's admin identity and one resend; `rate-limited:` by backing off and
// resending. Either way every request is answered once, and the refusals are counted per prefix.
import { describe, expect, test } from 'vitest'
import { fastPool, npubToHex } from '../helpers/bunker.ts'
import { rawNip46 } from './lib/raw-nip46.ts'
import { adminThrough, metric, startBridged, startLazyRelay } from './lib/setup.ts'

async function pingsThrough(relayArgs: string[], n: number) {
  const relay = await startLazyRelay(['--req-delay-ms', '0', ...relayArgs])
  const b = await startBridged([`${relay.url}/?lazy=1`], {}, { bunker: { scryptLogN: 10, autoApprove: true } })
  const pool = await fastPool()
  try {
    const admin = await adminThrough(b, relay.url, pool)
    const { npub } = JSON.parse(await admin.call('create_new_key', ['answers', 'pw']))
    await admin.close()
    const client = await rawNip46([relay.url], npubToHex(npub))
    const ids = Array.from({ length: n }, (_, i) => `p${i}`)
    client.publish(client.request('c', 'connect', [npubToHex(npub)]))
    for (const id of ids) client.publish(client.request(id, 'ping', []))
    await client.answered(['c', ...ids], 30_000)
    await new Promise((r) => setTimeout(r, 500))
    const counts = ids.map((id) => client.replies.get(id)!.size)
    client.close()
    const okFalse = (prefix: string) => metric(b.server, 'nsecrelay_bridge_ok_false_total', { prefix })
    return { relay, b, counts, authRequired: await okFalse('auth-required'), rateLimited: await okFalse('rate-limited') }
  } finally {
    pool.destroy()
    await b.server.stop()
    await relay.stop()
  }
}

describe('upstream refusals', () => {
  test('auth-required for REQs: the bridge authenticates as the admin identity and subscribes again', async () => {
    const r = await pingsThrough(['--auth', 'all'], 10)
    expect(r.counts).toEqual(Array(10).fill(1))
    expect(r.relay.lines).toContain(`authed ${r.b.bunker.pubkey}`)
  }, 60_000)

  test('auth-required for events: the bridge authenticates and resends the refused event once', async () => {
    const r = await pingsThrough(['--auth', 'events'], 10)
    expect(r.counts).toEqual(Array(10).fill(1))
    expect(r.relay.lines).toContain(`authed ${r.b.bunker.pubkey}`)
    expect(r.authRequired).toBeGreaterThan(0)
  }, 60_000)

  test('rate-limited: the bridge backs off and resends; every request answered once', async () => {
    const r = await pingsThrough(['--rate-limit-every', '4'], 10)
    expect(r.counts).toEqual(Array(10).fill(1))
    expect(r.rateLimited).toBeGreaterThan(0)
  }, 60_000)
})
