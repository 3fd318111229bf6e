// Assembles the application: one LMDB environment, the default relay at "/", the bunker plugin on
// it, metrics, and the uWS server. Used by main.ts and by in-process tests.
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { RootDatabase } from 'lmdb'
import { payloadLimit } from '../relay/limits.ts'
import { createRelay, type Relay } from '../relay/relay.ts'
import { startServer, type RunningServer } from '../relay/server.ts'
import { openEnvironment, openStore } from '../relay/store/store.ts'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { startBunker, type Bunker } from '../plugin/bunker/index.ts'
import { createWireStats } from '../plugin/bunker/wire.ts'
import { createApprovalWeb, type ApprovalWeb } from './web/approval-routes.ts'
import { approvalSetup, httpUrlOf } from './web/approval-setup.ts'

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

/**
 * The data directory is the operator's alone: created (or tightened) to 0700, LMDB's files to 0600.
 * LMDB creates its files 0644 (less the umask); inside a 0700 directory nobody else reaches them
 * before the chmod.
 */
export function openPrivateEnvironment(dir: string): RootDatabase {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const env = openEnvironment(dir)
  for (const file of ['data.mdb', 'lock.mdb']) if (existsSync(join(dir, file))) chmodSync(join(dir, file), 0o600)
  return env
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const env = openPrivateEnvironment(config.data)
  const urls: string[] = [...config.publicUrls]
  const relay = createRelay({
    store: openStore(env, { quota: { bytes: config.storage.quotaBytes, events: config.storage.quotaEvents, action: config.storage.quotaAction } }),
    limits: config.limits,
    query: config.query,
    urls,
    verifyWorkers: config.verifyWorkers,
    onError: (err, where) => log.error({ err, where }, 'relay error'),
  })
  const wireStats = createWireStats()
  const metrics = createMetrics(relay, wireStats)
  // the approval page hears of approvals the bunker opens; the base URL may be the listening one
  const approval = approvalSetup(config)
  if (approval.note) log[approval.note.level]({ approval: approval.mode }, approval.note.msg)
  let listening = ''
  const baseUrl = () => approval.baseUrl ?? httpUrlOf(listening)!
  let approvalWeb: ApprovalWeb | undefined
  const bunker = await startBunker({
    relay,
    env,
    dataDir: config.data,
    admins: config.admins,
    vaultSecret: config.vaultSecret,
    scryptLogN: config.bunker.scryptLogN,
    scryptWorkers: config.bunker.scryptWorkers,
    scryptQueue: config.bunker.scryptQueue,
    unlockFailuresPerMinute: config.bunker.unlockFailuresPerMinute,
    aclTimeoutMs: config.bunker.aclTimeoutSeconds * 1000,
    autoApprove: config.bunker.autoApprove,
    requestWindowSeconds: config.bunker.requestWindowSeconds,
    switchRelays: () => config.bunker.relays,
    accounts: { settings: config.bunker.accounts, hooks: relay.hooks, relayUrls: () => urls },
    approval: { mode: approval.mode, baseUrl, expiryMs: config.bunker.approvalPage.expirySeconds * 1000, announce: (a) => approvalWeb?.announce(a) },
    wire: {
      requestsPerMinute: config.bunker.requestsPerMinute,
      maxRememberedRequests: config.bunker.maxRememberedRequests,
      maxPendingApprovals: config.bunker.maxPendingApprovals,
    },
    stats: wireStats,
    log: log.child({ plugin: 'bunker' }),
    observe: metrics.observeBunker,
  })
  if (bunker.approvalLinks) {
    const state = bunker.state
    approvalWeb = createApprovalWeb({
      links: bunker.approvalLinks,
      admins: () => config.admins,
      baseUrl,
      settings: config.bunker.approvalPage,
      log: log.child({ plugin: 'approval-page' }),
      audit: (entry) => {
        state.audit(entry)
        state.commit().catch((err) => log.error({ err }, 'audit commit failed'))
      },
    })
  }
  await relay.ready
  const server = await startServer({
    host: config.host,
    port: config.port,
    route: (path) => (path === '/' ? relay : undefined),
    http: {
      '/healthz': () => ({ contentType: 'text/plain', body: 'ok\n' }),
      '/metrics': async () => ({ contentType: metrics.registry.contentType, body: await metrics.text() }),
      '/.well-known/nostr.json': (req) => ({ contentType: 'application/json', body: bunker.accounts.wellKnown(req) }),
    },
    prefixRoutes: approvalWeb ? [approvalWeb.route] : [],
    hardMaxPayload: payloadLimit(relay.limits.maxMessageBytes),
    maxConnections: relay.limits.maxConnections,
    maxConnectionsPerIp: relay.limits.maxConnectionsPerIp,
    maxEventsPerSecondPerIp: relay.limits.maxEventsPerSecondPerIp,
    maxInputBytesPerSecondPerIp: relay.limits.maxInputBytesPerSecondPerIp,
    clientIpHeader: config.clientIpHeader,
  })
  const url = `ws://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`
  if (urls.length === 0) urls.push(url)
  listening = url
  if (approvalWeb) log.info({ approval: approval.mode, url: `${baseUrl()}/approve` }, 'approval page on')
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
