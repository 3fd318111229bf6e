// Assembles the application: one LMDB environment and one relay runtime, the default relay at "/"
// and the hosted relays at /nostrrelay/<id> (src/relays), the bunker plugin on the relay the config
// names, NIP-86 management, metrics, and the uWS server. Used by main.ts and by in-process tests.
import type { RootDatabase } from 'lmdb'
import { payloadLimit } from '../relay/limits.ts'
import { createRelay, type Relay } from '../relay/relay.ts'
import { createRuntime } from '../relay/runtime.ts'
import { startServer, type RunningServer } from '../relay/server.ts'
import { openStore } from '../relay/store/store.ts'
import { openPrivateEnvironment } from './data.ts'
import type { Config } from './config.ts'
import type { Logger } from './log.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { startBunker, type Bunker } from '../plugin/bunker/index.ts'
import { createWireStats } from '../plugin/bunker/wire.ts'
import { createApprovalWeb, type ApprovalWeb } from './web/approval-routes.ts'
import { approvalSetup, httpUrlOf } from './web/approval-setup.ts'
import { createManagement } from './relays/nip86.ts'
import { nip11Of } from './relays/policy.ts'
import { type Hosted, openRegistry, type Registry } from './relays/registry.ts'
import { defaultSettings } from './relays/settings.ts'
import { startBridge, type Bridge } from './bridge/index.ts'

export interface App {
  /** The default relay, at "/". */
  relay: Relay
  /** Every relay served, the default one included. */
  registry: Registry
  bunker: Bunker
  /** The relay bridge: the bunker's traffic through upstream relays. */
  bridge: Bridge
  /** Where the bunker is reached (its bunker:// strings name them): its relay's URLs, then the upstreams. */
  bunkerUrls(): string[]
  server: RunningServer
  metrics: Metrics
  url: string
  /** Public URLs (configured, or the listening URL). */
  urls: string[]
  env: RootDatabase
  close(): Promise<void>
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const env = openPrivateEnvironment(config.data)
  const urls: string[] = [...config.publicUrls]
  const onError = (err: unknown, where: string) => log.error({ err, where }, 'relay error')
  const runtime = createRuntime({ verifyWorkers: config.verifyWorkers, onError })
  const store = openStore(env, { quota: { bytes: config.storage.quotaBytes, events: config.storage.quotaEvents, action: config.storage.quotaAction } })
  // its NIP-11 reflects what NIP-86 changed on it (kind lists)
  let hosted: Registry | undefined
  const nip11 = () => {
    const rec = hosted?.get('')?.record
    return rec ? nip11Of(rec, relay.limits) : {}
  }
  const relay = createRelay({ store, runtime, limits: config.limits, query: config.query, urls, nip11, onError })
  const registry = await openRegistry({
    env,
    runtime,
    defaultRelay: { relay, store },
    limits: relay.limits,
    query: config.query,
    baseUrls: () => urls,
    maxRelays: config.relays.maxRelays,
    onError,
  })
  hosted = registry
  const bunkerHost = await bunkerRelay(registry, config.relays.bunker)
  if (!bunkerHost.record.active) log.warn({ relay: bunkerHost.path }, 'the bunker runs on a relay that is switched off: clients cannot reach it')
  const wireStats = createWireStats()
  const metrics = createMetrics(() => registry.list().map((h) => ({ label: h.path, relay: h.relay })), wireStats)
  // the approval page hears of approvals the bunker opens; the base URL may be the listening one
  const approval = approvalSetup(config)
  if (approval.note) log[approval.note.level]({ approval: approval.mode }, approval.note.msg)
  let listening = ''
  const baseUrl = () => approval.baseUrl ?? httpUrlOf(listening)!
  let approvalWeb: ApprovalWeb | undefined
  let bridge: Bridge | undefined
  const reachable = () => [...bunkerHost.urls(), ...(bridge?.relays() ?? [])]
  const bunker = await startBunker({
    relay: bunkerHost.relay,
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
    // configured relays, else ours plus the upstreams when there are upstreams, else "null"
    switchRelays: () => (config.bunker.relays.length > 0 ? config.bunker.relays : bridge?.relays().length ? reachable() : []),
    links: { link: (pubkey, relayUrls) => bridge!.link(pubkey, relayUrls) },
    accounts: { settings: config.bunker.accounts, hooks: bunkerHost.relay.hooks, relayUrls: () => bunkerHost.urls() },
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
  bridge = startBridge(config.bridge, {
    relay: bunkerHost.relay,
    adminPubkey: bunker.adminPubkey,
    providerPubkey: config.bunker.accounts.enabled ? bunker.accounts.provider.pubkey : undefined,
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
    ownUrls: () => bunkerHost.urls(),
    env,
    registry: metrics.registry,
    log: log.child({ component: 'bridge' }),
    maxPayload: config.bridge.maxMessageBytes ?? bunkerHost.relay.limits.maxMessageBytes,
  })
  await bunker.announce() // after the bridge: its onAccepted forwards the NIP-89 events upstream
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
  await runtime.ready
  const admins = [...new Set([...config.admins, ...config.relays.admins])]
  const manage = createManagement({
    registry,
    admins: () => admins,
    authWindowSeconds: config.relays.authWindowSeconds,
    onChange: (method, relayId, by) => log.info({ method, relay: relayId || '/', by }, 'relay management'),
  })
  const server = await startServer({
    host: config.host,
    port: config.port,
    route: registry.route,
    relayPost: (r, post) => {
      const hosted = registry.of(r)
      return hosted ? manage(hosted, post) : { status: '404 Not Found', contentType: 'text/plain', body: 'not found' }
    },
    maxPostBytes: config.relays.maxRpcBytes,
    http: {
      '/healthz': () => {
        // 200 either way: a degraded bridge still serves local clients; the body names the upstreams
        const h = bridge!.health()
        if (!h.degraded) return { contentType: 'text/plain', body: 'ok\n' }
        const upstreams = h.upstreams.filter((u) => u.state !== 'healthy').map((u) => ({ url: u.url, state: u.state, forMs: u.for }))
        return { contentType: 'application/json', body: JSON.stringify({ status: 'degraded', upstreams }) }
      },
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
    registry,
    bunker,
    bridge,
    bunkerUrls: reachable,
    server,
    metrics,
    url,
    urls,
    env,
    async close() {
      server.close()
      await bridge!.close()
      await bunker.close()
      registry.close()
      relay.close()
      await runtime.close()
      await env.close()
    },
  }
}

/** The relay the bunker runs on: "/" or a hosted relay, made with LNbits' defaults when missing; it may not be deleted. */
async function bunkerRelay(registry: Registry, where: string): Promise<Hosted> {
  const id = where === '/' ? '' : where
  const hosted = registry.get(id) ?? (await registry.create(id, { settings: defaultSettings() }))
  registry.protect(id, 'the bunker runs on it')
  return hosted
}
