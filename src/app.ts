// Assembles the application: one LMDB environment, the default relay at "/", the bunker plugin on
// it, metrics, and the uWS server. Used by main.ts and by in-process tests.
import { mkdirSync } from 'node:fs'
import type { RootDatabase } from 'lmdb'
import { createRelay, type Relay } from '../relay/relay.ts'
import { startServer, type RunningServer } from '../relay/server.ts'
import { openEnvironment, openStore } from '../relay/store/store.ts'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { startBunker, type Bunker } from '../plugin/bunker/index.ts'
import { startBridge, type Bridge } from './bridge/index.ts'

export interface App {
  relay: Relay
  bunker: Bunker
  bridge: Bridge
  server: RunningServer
  metrics: Metrics
  url: string
  /** Public URLs (configured, or the listening URL). */
  urls: string[]
  env: RootDatabase
  close(): Promise<void>
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  mkdirSync(config.data, { recursive: true })
  const env = openEnvironment(config.data)
  const urls: string[] = [...config.publicUrls]
  const relay = createRelay({
    store: openStore(env),
    limits: config.limits,
    urls,
    verifyWorkers: config.verifyWorkers,
    onError: (err, where) => log.error({ err, where }, 'relay error'),
  })
  const metrics = createMetrics(relay)
  let bridge: Bridge | undefined
  /** Where the bunker is reached: our URLs and the bridge's upstreams. */
  const reachable = () => [...urls, ...(bridge?.relays() ?? [])]
  const bunker = await startBunker({
    relay,
    env,
    dataDir: config.data,
    admins: config.admins,
    vaultSecret: config.vaultSecret,
    scryptLogN: config.bunker.scryptLogN,
    aclTimeoutMs: config.bunker.aclTimeoutSeconds * 1000,
    autoApprove: config.bunker.autoApprove,
    requestWindowSeconds: config.bunker.requestWindowSeconds,
    // configured relays, else ours plus the upstreams when there are upstreams, else "null"
    switchRelays: () => (config.bunker.relays.length > 0 ? config.bunker.relays : bridge?.relays().length ? reachable() : []),
    links: { link: (pubkey, relayUrls) => bridge!.link(pubkey, relayUrls) },
    log: log.child({ plugin: 'bunker' }),
    observe(method, outcome, seconds) {
      metrics.bunkerService.observe({ method, outcome }, seconds)
      metrics.bunkerServiceQuantiles.observe({ method }, seconds)
      metrics.bunkerRequests.inc({ method, outcome })
    },
  })
  bridge = startBridge(config.bridge, {
    relay,
    adminPubkey: bunker.adminPubkey,
    keyring: bunker.keyring,
    keyExists: (pk) => [...bunker.state.keys.values()].some((k) => k.pubkey === pk),
    signAuth: (relayUrl, challenge) =>
      bunker.signAsAdmin({
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', relayUrl],
          ['challenge', challenge],
        ],
        content: '',
      }),
    ownUrls: () => urls,
    env,
    registry: metrics.registry,
    log: log.child({ component: 'bridge' }),
    maxPayload: config.bridge.maxMessageBytes ?? relay.limits.maxMessageBytes,
  })
  await relay.ready
  const server = await startServer({
    host: config.host,
    port: config.port,
    route: (path) => (path === '/' ? relay : undefined),
    http: {
      '/healthz': () => {
        // 200 either way: a degraded bridge still serves local clients; the body names the upstreams
        const h = bridge!.health()
        if (!h.degraded) return { contentType: 'text/plain', body: 'ok\n' }
        const upstreams = h.upstreams.filter((u) => u.state !== 'healthy').map((u) => ({ url: u.url, state: u.state, forMs: u.for }))
        return { contentType: 'application/json', body: JSON.stringify({ status: 'degraded', upstreams }) }
      },
      '/metrics': async () => ({ contentType: metrics.registry.contentType, body: await metrics.text() }),
    },
    hardMaxPayload: Math.max(16 * 1024 * 1024, relay.limits.maxMessageBytes * 2),
  })
  const url = `ws://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`
  if (urls.length === 0) urls.push(url)
  return {
    relay,
    bunker,
    bridge,
    server,
    metrics,
    url,
    urls,
    env,
    async close() {
      server.close()
      await bridge!.close()
      await bunker.close()
      relay.close()
      await env.close()
    },
  }
}
