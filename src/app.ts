// Assembles the application: one LMDB environment, the default relay at "/", the bunker plugin on
// it, metrics, and the uWS server. Used by main.ts and by in-process tests.
import { mkdirSync } from 'node:fs'
import type { RootDatabase } from 'lmdb'
import { createRelay, type Relay } from '../relay/relay.ts'
import { startServer, type RunningServer } from '../relay/server.ts'
import { openEnvironment, openStore } from '../relay/store/store.ts'
import { initVerifier } from '../relay/verify.ts'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import { createMetrics, type Metrics } from './metrics.ts'

export interface App {
  relay: Relay
  server: RunningServer
  metrics: Metrics
  url: string
  env: RootDatabase
  close(): Promise<void>
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  await initVerifier()
  mkdirSync(config.data, { recursive: true })
  const env = openEnvironment(config.data)
  const urls: string[] = [...config.publicUrls]
  const relay = createRelay({
    store: openStore(env),
    limits: config.limits,
    urls,
    onError: (err, where) => log.error({ err, where }, 'relay error'),
  })
  const metrics = createMetrics(relay)
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
    server,
    metrics,
    url,
    env,
    async close() {
      server.close()
      relay.close()
      await env.close()
    },
  }
}
