// Two routes to the bunker: our relay and an upstream (behind a 30 ms proxy). A client that
// publishes the same request to both gets exactly one reply (one reply event, seen on both relays):
// the relay's duplicate check and the bunker's `seen` take the second copy, whichever comes first.
// Also: the bunker:// line and switch_relays name our URL and the upstream; /healthz and /metrics.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SimplePool } from 'nostr-tools/pool'
import { bunkerSignerAdmin, fastPool, npubToHex, STEP_MS, type AdminClient, type BunkerServer } from '../helpers/bunker.ts'
import type { ServerProcess } from '../helpers/server.ts'
import { startTestProxy, type TestProxy } from './lib/proxy.ts'
import { rawNip46 } from './lib/raw-nip46.ts'
import { metric, startBridged, startUpstreamRelay } from './lib/setup.ts'

let upstream: ServerProcess
let proxy: TestProxy
let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
let signer: string

beforeAll(async () => {
  upstream = await startUpstreamRelay()
  proxy = await startTestProxy(Number(new URL(upstream.url).port), 30)
  b = await startBridged([proxy.url])
  pool = await fastPool()
  admin = await bunkerSignerAdmin(b, pool)
  const { npub } = JSON.parse(await admin.call('create_new_key', ['routes', 'pw']))
  signer = npubToHex(npub)
})
afterAll(async () => {
  await admin.close()
  pool.destroy()
  await b.server.stop()
  await proxy.close()
  await upstream.stop()
})

describe('one request, two routes', () => {
  test('the same request published to our relay and to the upstream is answered once, 20 times over', async () => {
    const client = await rawNip46([b.server.url, proxy.url], signer)
    const [local, remote] = client.sockets
    // the client becomes a user of the key (approved by token), then pings
    await admin.call('create_new_policy', [JSON.stringify({ name: 'routes', rules: [{ method: 'sign_event' }] })])
    await admin.call('create_new_token', ['routes', 'routes-client', '1'])
    const [token] = JSON.parse(await admin.call('get_key_tokens', ['routes']))
    const before = await metric(b.server, 'nsecrelay_bunker_requests_total', { method: 'ping' })
    client.publish(client.request('c', 'connect', [signer, token.token.split('#')[1]]), [local])
    await client.answered(['c'], STEP_MS)
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`)
    for (const [i, id] of ids.entries()) {
      const ev = client.request(id, 'ping', [])
      // alternate which route carries it first; the other copy follows at once
      client.publish(ev, i % 2 === 0 ? [local, remote] : [remote, local])
    }
    await client.answered(ids, 10_000)
    // whatever would come late by the slower route has come by now (the proxy adds 60 ms a round trip)
    await new Promise((r) => setTimeout(r, 1000))
    for (const id of ids) {
      const replies = client.replies.get(id)!
      expect(replies.size, `distinct replies to ${id}`).toBe(1)
      expect([...replies.values()][0].result).toBe('pong')
    }
    expect((await metric(b.server, 'nsecrelay_bunker_requests_total', { method: 'ping' })) - before).toBe(20)
    client.close()
  })
})

describe('what the bunker hands out', () => {
  test('the bunker:// line and switch_relays list our URL and the upstream', async () => {
    expect(b.bunker.relays).toEqual([b.server.url, proxy.url])
    await admin.call('create_new_token', ['routes', 'switch-client', '1'])
    const tokens = JSON.parse(await admin.call('get_key_tokens', ['routes']))
    const client = await rawNip46([proxy.url], signer)
    client.publish(client.request('c', 'connect', [signer, tokens.at(-1).token.split('#')[1]]))
    client.publish(client.request('s', 'switch_relays', []))
    await client.answered(['c', 's'], STEP_MS)
    expect(JSON.parse([...client.replies.get('s')!.values()][0].result)).toEqual([b.server.url, proxy.url])
    client.close()
  })

  test('/metrics carries the bridge figures per upstream; /healthz says ok while the upstream is healthy', async () => {
    const http = b.server.url.replace('ws://', 'http://')
    expect(await (await fetch(`${http}/healthz`)).text()).toBe('ok\n')
    expect(await metric(b.server, 'nsecrelay_bridge_upstream_state', { upstream: proxy.url })).toBe(3)
    expect(await metric(b.server, 'nsecrelay_bridge_events_in_total', { upstream: proxy.url })).toBeGreaterThan(0)
    expect(await metric(b.server, 'nsecrelay_bridge_events_out_total', { upstream: proxy.url })).toBeGreaterThan(0)
    expect(await metric(b.server, 'nsecrelay_bridge_confirm_seconds_count', { upstream: proxy.url, cause: 'registration' })).toBeGreaterThan(0)
  })
})
