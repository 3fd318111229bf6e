// The bridge through an upstream's outages. The upstream process is killed and restarted: the
// bridge reconnects (backoff), re-subscribes, /healthz says degraded meanwhile and names it, and
// every request sent once it is healthy is answered. The link alone goes down while clients keep
// publishing to an upstream that stores kind 24133: on reconnect the bridge asks for events since
// its last sign of life minus 10 s, so the requests sent meanwhile are answered once, a stale one
// is refused once, and those answered before the outage are not answered again.
import { describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import { generateSecretKey } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, npubToHex, STEP_MS, type BunkerServer } from '../helpers/bunker.ts'
import { startTestProxy } from './lib/proxy.ts'
import { rawNip46 } from './lib/raw-nip46.ts'
import { adminThrough, metric, startBridged, startLazyRelay, startUpstreamRelay } from './lib/setup.ts'

const FAST_RECONNECT = { reconnectMinMs: 100, reconnectMaxMs: 1000 }

async function health(b: BunkerServer): Promise<string> {
  return (await fetch(`${b.server.url.replace('ws://', 'http://')}/healthz`)).text()
}

/** Polls /healthz until `pred` holds (bounded). */
async function healthUntil(b: BunkerServer, pred: (body: string) => boolean, ms: number): Promise<string> {
  const deadline = Date.now() + ms
  for (;;) {
    const body = await health(b)
    if (pred(body)) return body
    if (Date.now() > deadline) throw new Error(`/healthz still says ${body}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('upstream outages', () => {
  test('the upstream is killed and restarted: degraded meanwhile, then re-subscribed and every request answered', async () => {
    let upstream = await startUpstreamRelay()
    // the upstream's public address; the process behind it restarts on another port
    const front = await startTestProxy(Number(new URL(upstream.url).port), 0)
    const b = await startBridged([front.url], FAST_RECONNECT)
    const pool = await fastPool()
    try {
      const admin = await bunkerSignerAdmin(b, pool) // the admin works locally: the upstream goes away
      await admin.call('create_new_policy', [JSON.stringify({ name: 'sign', rules: [{ method: 'sign_event' }] })])
      const { npub } = JSON.parse(await admin.call('create_new_key', ['outage', 'pw']))
      await admin.call('create_new_token', ['outage', 'c', '1'])
      const [token] = JSON.parse(await admin.call('get_key_tokens', ['outage']))
      const bp = { pubkey: npubToHex(npub), relays: [front.url], secret: token.token.split('#')[1] }

      await upstream.stop()
      const degraded = JSON.parse(await healthUntil(b, (s) => s.includes('degraded'), 10_000))
      expect(degraded).toMatchObject({ status: 'degraded', upstreams: [{ url: front.url, state: 'down' }] })

      upstream = await startUpstreamRelay()
      front.retarget(Number(new URL(upstream.url).port))
      await healthUntil(b, (s) => s === 'ok\n', 20_000)
      expect(await metric(b.server, 'nsecrelay_bridge_reconnects_total')).toBeGreaterThan(0)

      const signer = BunkerSigner.fromBunker(generateSecretKey(), bp, { pool })
      await withTimeout(signer.connect(), STEP_MS, 'connect after the restart')
      for (let i = 0; i < 20; i++) await withTimeout(signer.signEvent({ kind: 1, content: `after ${i}`, tags: [], created_at: now() }), STEP_MS, `sign #${i}`)
      // a key created after the restart is heard through the new connection at once, too
      const { npub: npub2 } = JSON.parse(await admin.call('create_new_key', ['after', 'pw']))
      await admin.call('create_new_token', ['after', 'c2', '1'])
      const [token2] = JSON.parse(await admin.call('get_key_tokens', ['after']))
      const signer2 = BunkerSigner.fromBunker(
        generateSecretKey(),
        { pubkey: npubToHex(npub2), relays: [front.url], secret: token2.token.split('#')[1] },
        { pool },
      )
      await withTimeout(signer2.connect(), STEP_MS, 'connect to a new key')
      await signer.close()
      await signer2.close()
      await admin.close()
    } finally {
      pool.destroy()
      await b.server.stop()
      await front.close()
      await upstream.stop()
    }
  }, 90_000)

  test('the link goes down while clients keep publishing: each request answered once after reconnect, stale ones refused once', async () => {
    const relay = await startLazyRelay(['--req-delay-ms', '0', '--store'])
    const link = await startTestProxy(Number(new URL(relay.url).port), 0)
    const b = await startBridged([link.url], FAST_RECONNECT, { bunker: { scryptLogN: 10, autoApprove: true, requestWindowSeconds: 5 } })
    const pool = await fastPool()
    try {
      const admin = await adminThrough(b, relay.url, pool)
      const { npub } = JSON.parse(await admin.call('create_new_key', ['link', 'pw']))
      await admin.close()
      const client = await rawNip46([relay.url], npubToHex(npub))
      const before = ['a0', 'a1', 'a2'].map((id) => client.request(id, id === 'a0' ? 'connect' : 'ping', id === 'a0' ? [npubToHex(npub)] : []))
      for (const ev of before) client.publish(ev)
      await client.answered(['a0', 'a1', 'a2'], STEP_MS)

      await link.cut()
      await healthUntil(b, (s) => s.includes('degraded'), 10_000)
      const during = ['b0', 'b1', 'b2', 'b3', 'b4'].map((id) => client.request(id, 'ping', []))
      for (const ev of during) client.publish(ev)
      client.publish(client.request('stale', 'ping', [], now() - 8)) // within the replay window, outside the request window
      for (const ev of before) client.publish(ev) // a request already answered, sent again
      await new Promise((r) => setTimeout(r, 300))

      await link.restore()
      await client.answered(['b0', 'b1', 'b2', 'b3', 'b4', 'stale'], 20_000)
      await new Promise((r) => setTimeout(r, 1000)) // anything answered twice would have come by now
      for (const id of ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'b3', 'b4', 'stale']) expect(client.replies.get(id)?.size, `replies to ${id}`).toBe(1)
      for (const id of ['b0', 'b1', 'b2', 'b3', 'b4']) expect([...client.replies.get(id)!.values()][0].result).toBe('pong')
      expect([...client.replies.get('stale')!.values()][0].error).toMatch(/time window/)
      client.close()
    } finally {
      pool.destroy()
      await b.server.stop()
      await link.close()
      await relay.stop()
    }
  }, 90_000)
})
