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

export interface App {
  relay: Relay
  bunker: Bunker
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
    store: openStore(env, { quota: { bytes: config.storage.quotaBytes, events: config.storage.quotaEvents, action: config.storage.quotaAction } }),
    limits: config.limits,
    query: config.query,
    urls,
    verifyWorkers: config.verifyWorkers,
    onError: (err, where) => log.error({ err, where }, 'relay error'),
  })
  const metrics = createMetrics(relay)
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
    switchRelays: () => config.bunker.relays,
    log: log.child({ plugin: 'bunker' }),
    observe(method, outcome, seconds) {
      metrics.bunkerService.observe({ method, outcome }, seconds)
      metrics.bunkerServiceQuantiles.observe({ method }, seconds)
      metrics.bunkerRequests.inc({ method, outcome })
    },
  })
  await relay.ready
  const server = await startServer({
    host: config.host,
    port: config.port,
    route: (path) => (path === '/' ? relay : undefined),
    http: {
      '/healthz': () => ({ contentType: 'text/plain', body: 'ok\n' }),
      '/metrics': async () => ({ contentType: metrics.registry.contentType, body: await metrics.text() }),
    },
    hardMaxPayload: Math.max(16 * 1024 * 1024, relay.limits.maxMessageBytes * 2),
  })
  const url = `ws://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`
  if (urls.length === 0) urls.push(url)
  return {
    relay,
    bunker,
    server,
    metrics,
    url,
    urls,
    env,
    async close() {
      server.close()
      await bunker.close()
      relay.close()
      await env.close()
    },
  }
}
