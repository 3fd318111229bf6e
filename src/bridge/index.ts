// The relay bridge: mirrors the bunker's traffic through upstream relays, so clients that know only
// a public relay reach the bunker, race-free per upstream. It sits on the relay's host API only
// (relay.publish with origin {type: 'bridge'}, relay.hooks.onAccepted); relay/ knows nothing of it.
//
// In: every upstream that is readable holds one subscription (split into REQs within its limits)
// for kinds 24133/24134 p-tagged to the admin identity, kind 24133 p-tagged to the account
// provider's own key (bunker.accounts.provider "own") and to every unlocked key. What arrives goes through our pipeline like a client's EVENT (full verification, duplicate
// check); the bunker's `seen` makes the same request arriving by two routes answered once.
//
// Out: every event the bunker publishes (onAccepted, origin local/bunker) is queued on every
// writable upstream; local delivery has already happened and never waits for an upstream.
//
// The invariant, per upstream. The keyring reports each registration synchronously, inside
// register(), which the bunker calls before it publishes the reply announcing the key. So when the
// reply reaches onAccepted, every upstream already wants the new key and has it unconfirmed. The
// rule that follows needs no help from the admin methods:
//   - an event authored by the admin identity (or the account provider's own key, whose
//     create_account replies name new keys) is held on an upstream until every key that was
//     unconfirmed there when the event was published is confirmed (a barrier: whatever the admin
//     says after a registration, create_new_key's reply, get_keys, a token, may name the key);
//   - an event authored by a key is held on an upstream until that key is confirmed there (the
//     connect response of a nostrconnect:// session announces the key on the client's relays).
// Confirmed means: a REQ opened after the registration and covering the key was acknowledged by
// that upstream, by EOSE or (bridge.confirm "probe") by a throwaway event p-tagged to the key seen
// coming back on that subscription. The hold is bounded (bridge.confirmTimeoutMs; then it is sent
// with a warning and a metric). A (re)connected upstream gets nothing until its first generation
// of REQs is acknowledged.
//
// Apart from the bunker's traffic, configured streams mirror events down from or up to other
// relays (streams.ts).
import { randomBytes } from 'node:crypto'
import type { RootDatabase } from 'lmdb'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { NostrEvent, Relay } from '../../relay/relay.ts'
import type { KeyRef } from '../../plugin/bunker/keyring.ts'
import type { RelayLinks } from '../../plugin/bunker/nostrconnect.ts'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'
import type { BridgeConfig } from './config.ts'
import { normaliseRelayUrl, openLinkStore } from './links.ts'
import { createBridgeMetrics } from './metrics.ts'
import { startStreams } from './streams.ts'
import { createUpstream, type ProbeKey, type Upstream, type UpstreamStatus } from './upstream.ts'

const NIP46 = 24133
const ADMIN_RPC = 24134
/** Upstream events being verified and ingested at once, over all upstreams; more are dropped. */
const MAX_INGEST_IN_FLIGHT = 2000

export interface BridgeHost {
  relay: Pick<Relay, 'publish' | 'hooks'>
  adminPubkey: string
  /** The account provider's own key, when it is not the admin's: it hears create_account. */
  providerPubkey?: string
  keyring: { list(): KeyRef[]; listen(l: { registered(k: KeyRef): void; unregistered(k: KeyRef): void }): () => void }
  /** Whether a key with this pubkey still exists (links of deleted keys are dropped at start). */
  keyExists(pubkey: string): boolean
  /** A NIP-42 AUTH event signed as the admin identity. */
  signAuth(relayUrl: string, challenge: string): NostrEvent
  /** Our own public URLs: never opened as upstreams. */
  ownUrls(): string[]
  env: RootDatabase
  registry: Registry
  log: Logger
  /** Largest frame accepted from an upstream. */
  maxPayload: number
}

export interface BridgeHealth {
  degraded: boolean
  upstreams: UpstreamStatus[]
}

export interface Bridge extends RelayLinks {
  /** Upstreams the bunker is reachable through (readable and writable), for bunker:// and switch_relays. */
  relays(): string[]
  health(): BridgeHealth
  /** Resolves once every upstream (nostrconnect relays too) is healthy, or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>
  close(): Promise<void>
}

function probeKey(): ProbeKey {
  const sk = randomBytes(32)
  const pubkey = publicKeyOf(sk)
  return {
    pubkey,
    make: (target) =>
      signEvent(
        { kind: NIP46, created_at: Math.floor(Date.now() / 1000), tags: [['p', target]], content: `nsecrelay bridge probe ${randomBytes(8).toString('hex')}` },
        sk,
        pubkey,
      ),
  }
}

export function startBridge(cfg: BridgeConfig, host: BridgeHost): Bridge {
  const log = host.log
  const probe = probeKey()
  const all = new Map<string, Upstream>()
  const configured: Upstream[] = []
  /** nostrconnect relays: upstream URL -> keys linked there, and key -> its relays. */
  const linkKeys = new Map<string, Set<string>>()
  const keyLinks = new Map<string, Set<string>>()
  const registered = new Set(host.keyring.list().map((k) => k.pubkey))
  const store = openLinkStore(host.env)
  /** Identities whose replies may name keys just registered: the admin's and the provider's own. */
  const announcer = (pubkey: string | undefined): pubkey is string => pubkey === host.adminPubkey || (!!pubkey && pubkey === host.providerPubkey)
  let ingesting = 0
  let closed = false

  const metrics = createBridgeMetrics(host.registry, () =>
    [...all.values()].map((u) => {
      const s = u.status()
      return { url: s.url, state: s.state, queued: s.queued }
    }),
  )

  function receive(event: NostrEvent, upstream: string): void {
    if (event.pubkey === probe.pubkey) return
    if (ingesting >= MAX_INGEST_IN_FLIGHT) return void metrics.dropped.inc({ upstream, reason: 'ingest-full' })
    ingesting++
    host.relay.publish(event, { type: 'bridge', upstream }).then(
      () => ingesting--,
      (err) => {
        ingesting--
        log.error({ err, upstream }, 'bridge: publishing an upstream event failed')
      },
    )
  }

  function open(url: string, read: boolean, write: boolean): Upstream {
    const u = createUpstream({
      url,
      read,
      write,
      cfg,
      maxPayload: host.maxPayload,
      signAuth: host.signAuth,
      probeKey: probe,
      receive,
      metrics,
      log,
    })
    all.set(url, u)
    return u
  }

  const own = () => new Set(host.ownUrls().map((u) => normaliseRelayUrl(u) ?? u))
  for (const c of cfg.upstreams) {
    const url = normaliseRelayUrl(c.url)
    if (!url || all.has(url) || own().has(url)) {
      log.warn({ upstream: c.url }, 'bridge: upstream skipped (ours, a duplicate, or not a ws(s) URL)')
      continue
    }
    const u = open(url, c.read, c.write)
    configured.push(u)
    u.want(host.adminPubkey, [NIP46, ADMIN_RPC])
    if (host.providerPubkey && host.providerPubkey !== host.adminPubkey) u.want(host.providerPubkey, [NIP46])
    for (const pk of registered) u.want(pk, [NIP46])
  }

  /** Readable and writable configured upstreams already carry every key. */
  const coveredEverywhere = (url: string) => configured.some((u) => u.url === url && u.read && u.write)

  function linkOne(pubkey: string, url: string): void {
    let keys = linkKeys.get(url)
    if (!keys) {
      linkKeys.set(url, (keys = new Set()))
      open(url, true, true)
    }
    keys.add(pubkey)
    let urls = keyLinks.get(pubkey)
    if (!urls) keyLinks.set(pubkey, (urls = new Set()))
    urls.add(url)
    if (registered.has(pubkey)) all.get(url)!.want(pubkey, [NIP46])
  }

  for (const { pubkey, urls } of store.all()) {
    if (!host.keyExists(pubkey)) {
      void store.remove(pubkey)
      continue
    }
    for (const url of urls) if (linkKeys.has(url) || linkKeys.size < cfg.maxLinkedRelays) linkOne(pubkey, url)
  }

  const unlisten = host.keyring.listen({
    registered(k) {
      registered.add(k.pubkey)
      for (const u of configured) u.want(k.pubkey, [NIP46])
      for (const url of keyLinks.get(k.pubkey) ?? []) all.get(url)?.want(k.pubkey, [NIP46])
    },
    unregistered(k) {
      registered.delete(k.pubkey)
      for (const u of configured) u.unwant(k.pubkey)
      for (const url of keyLinks.get(k.pubkey) ?? []) all.get(url)?.unwant(k.pubkey)
    },
  })

  /** The keys an event must wait for on `u`: see the top of this file. */
  function holdsFor(u: Upstream, event: NostrEvent): string[] | undefined {
    if (announcer(event.pubkey)) {
      const pending = u.unconfirmed()
      return pending.length > 0 ? pending : undefined
    }
    return u.isWanted(event.pubkey) && !u.isConfirmed(event.pubkey) ? [event.pubkey] : undefined
  }

  function route(event: NostrEvent): void {
    const json = JSON.stringify(event)
    for (const u of configured) if (u.write) u.send(event, json, holdsFor(u, event))
    for (const url of keyLinks.get(event.pubkey) ?? []) {
      const u = all.get(url)
      if (u) u.send(event, json, holdsFor(u, event))
    }
  }

  const onAccepted = (event: NostrEvent, origin: Parameters<Relay['hooks']['onAccepted'][number]>[1]) => {
    if (closed || origin.type !== 'local' || origin.plugin !== 'bunker') return
    try {
      route(event)
    } catch (err) {
      log.error({ err }, 'bridge: routing an event failed') // never into the relay's pipeline
    }
  }
  host.relay.hooks.onAccepted.push(onAccepted)
  const streams = startStreams(cfg.streams, { relay: host.relay, cfg, maxPayload: host.maxPayload, metrics, log })

  const health = (): BridgeHealth => {
    const upstreams = [...all.values()].map((u) => u.status())
    const degraded = upstreams.some((s) => s.state === 'down' || s.state === 'connecting' || (s.state === 'syncing' && s.for > cfg.confirmTimeoutMs))
    return { degraded, upstreams }
  }

  return {
    relays: () => configured.filter((u) => u.read && u.write).map((u) => u.url),
    link(pubkey, urls) {
      const ours = own()
      const wanted: string[] = []
      for (const text of urls) {
        const url = normaliseRelayUrl(text)
        if (!url) throw new Error(`not a ws:// or wss:// relay URL: ${text.slice(0, 100)}`)
        if (!ours.has(url) && !coveredEverywhere(url) && !wanted.includes(url)) wanted.push(url)
      }
      const fresh = wanted.filter((u) => !linkKeys.has(u))
      if (linkKeys.size + fresh.length > cfg.maxLinkedRelays) throw new Error(`too many linked relays (bridge.maxLinkedRelays ${cfg.maxLinkedRelays})`)
      for (const url of wanted) linkOne(pubkey, url)
      if (wanted.length > 0)
        store.set(pubkey, [...keyLinks.get(pubkey)!]).catch((err) => log.error({ err }, 'bridge: could not store a nostrconnect relay link'))
      return wanted
    },
    health,
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline && [...all.values()].some((u) => u.status().state !== 'healthy')) await new Promise((r) => setTimeout(r, 20))
    },
    async close() {
      closed = true
      unlisten()
      const i = host.relay.hooks.onAccepted.indexOf(onAccepted)
      if (i >= 0) host.relay.hooks.onAccepted.splice(i, 1)
      await Promise.all([...[...all.values()].map((u) => u.close()), streams.close()])
    },
  }
}
