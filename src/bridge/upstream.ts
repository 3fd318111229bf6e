// One upstream relay for bunker traffic: one connection, the REQs of a ReqBook on it, and an
// outbound queue. Events received on our subscriptions go to `receive` (the bridge publishes them
// into our relay); the bunker's events wait in the queue until the connection's first generation
// of REQs is acknowledged, and an event held for keys waits until those are confirmed here (or
// bridge.confirmTimeoutMs passes: then it is sent anyway, logged and counted).
// OK answers: `auth-required:` is met by NIP-42 AUTH as the admin identity and one resend;
// `rate-limited:` pauses the queue with a doubling delay; the rest are counted.
import type { Logger } from 'pino'
import type { NostrEvent } from '../../relay/relay.ts'
import type { BridgeConfig } from './config.ts'
import { createConnection } from './connection.ts'
import { prefixOf, type BridgeMetrics, type UpstreamState } from './metrics.ts'
import { fetchRelayInfo } from './nip11.ts'
import { createOutbox, type DropReason } from './outbox.ts'
import { limitsFrom, type UpstreamLimits } from './plan.ts'
import { createReqBook } from './reqs.ts'

export interface ProbeKey {
  pubkey: string
  /** A throwaway kind-24133 event p-tagged to `target`, unique each call. */
  make(target: string): NostrEvent
}

export interface UpstreamOptions {
  url: string
  read: boolean
  write: boolean
  cfg: BridgeConfig
  /** Largest frame accepted from the upstream. */
  maxPayload: number
  /** A NIP-42 event (kind 22242) signed as the bunker's admin identity. */
  signAuth(relayUrl: string, challenge: string): NostrEvent
  probeKey: ProbeKey
  /** An event that arrived on one of our subscriptions and matches what we asked for. */
  receive(event: NostrEvent, upstream: string): void
  metrics: BridgeMetrics
  log: Logger
}

export interface UpstreamStatus {
  url: string
  read: boolean
  write: boolean
  state: UpstreamState
  /** ms in the current state */
  for: number
  openReqs: number
  keys: number
  unconfirmed: number
  queued: number
  held: number
  limits: UpstreamLimits
}

export interface Upstream {
  readonly url: string
  readonly read: boolean
  readonly write: boolean
  want(pubkey: string, kinds: readonly number[]): void
  unwant(pubkey: string): void
  isWanted(pubkey: string): boolean
  isConfirmed(pubkey: string): boolean
  /** Wanted keys not confirmed on the current connection. */
  unconfirmed(): string[]
  /** Queues an event; it waits until every key in `waitFor` is confirmed here (bounded). */
  send(event: NostrEvent, json: string, waitFor?: string[]): void
  status(): UpstreamStatus
  close(): Promise<void>
}

/** Above this many unsent bytes on the socket, the queue waits. */
const MAX_SOCKET_BUFFER = 1024 * 1024
const AUTH_TIMEOUT_MS = 10_000
const MAX_RATE_RETRIES = 5

export function createUpstream(o: UpstreamOptions): Upstream {
  const { cfg, metrics } = o
  const label = { upstream: o.url }
  const log = o.log.child({ upstream: o.url })
  const caps = { maxKeysPerFilter: cfg.maxKeysPerFilter, maxMessageBytes: o.maxPayload }
  const limits: UpstreamLimits = limitsFrom(undefined, caps)
  let info = fetchRelayInfo(o.url)
  let state: UpstreamState = 'connecting'
  let stateSince = Date.now()
  let closed = false
  let connectedAt = 0
  /** Counts connections, so a late NIP-11 answer for an earlier one does nothing. */
  let opens = 0
  let aliveAtDrop = 0
  let challenge: string | undefined
  let authEventId: string | undefined
  let authPending = false
  let authTimer: NodeJS.Timeout | undefined
  let pausedUntil = 0
  let rateDelay = 0
  let drainTimer: NodeJS.Timeout | undefined
  let holdTimer: NodeJS.Timeout | undefined

  const setState = (s: UpstreamState) => {
    if (s === state) return
    state = s
    stateSince = Date.now()
  }
  const refreshState = () => {
    if (closed) return setState('closed')
    if (!conn.open) return setState(connectedAt === 0 ? 'connecting' : 'down')
    setState(book.healthy ? 'healthy' : 'syncing')
  }

  const outbox = createOutbox({
    maxItems: cfg.queueMax,
    maxBytes: cfg.queueMaxBytes,
    ttlMs: cfg.ephemeralTtlSeconds * 1000,
    holdMs: cfg.confirmTimeoutMs,
    okTimeoutMs: 30_000,
    dropped: (reason: DropReason) => metrics.dropped.inc({ ...label, reason }),
  })

  const book = createReqBook({
    limits,
    confirm: cfg.confirm,
    probeIntervalMs: cfg.probeIntervalMs,
    mergeDelayMs: cfg.mergeDelayMs,
    reqTimeoutMs: Math.max(10_000, 2 * cfg.confirmTimeoutMs),
    send: (frame) => void conn.send(frame),
    probe(pubkey) {
      const ev = o.probeKey.make(pubkey)
      conn.send(['EVENT', ev])
      return ev.id
    },
    confirmed(keys) {
      for (const k of keys) metrics.confirmSeconds.observe({ ...label, cause: k.cause }, k.ms / 1000)
      outbox.confirmed(keys.map((k) => k.pubkey))
      refreshState()
      drain()
    },
    needAuth: () => authenticate(),
    fail(reason) {
      log.warn({ reason }, 'bridge: dropping the upstream connection')
      conn.drop(reason)
    },
    log,
  })

  const conn = createConnection({
    url: o.url,
    maxPayload: o.maxPayload,
    reconnectMinMs: cfg.reconnectMinMs,
    reconnectMaxMs: cfg.reconnectMaxMs,
    stableMs: cfg.stableMs,
    pingSeconds: cfg.pingSeconds,
    onOpen(reconnect) {
      connectedAt = Date.now()
      challenge = undefined
      refreshState()
      const window = reconnect && aliveAtDrop > 0 ? { since: Math.floor(aliveAtDrop / 1000) - cfg.sinceSlackSeconds, limit: cfg.replayLimit } : { limit: 0 }
      const epoch = ++opens
      info.then((doc) => {
        if (epoch !== opens || !conn.open || closed) return
        Object.assign(limits, limitsFrom(doc, caps))
        book.connected(window)
        refreshState()
        drain()
      })
      // The queue waits for the first generation's acknowledgement, at most confirmTimeoutMs.
      scheduleDrain(cfg.confirmTimeoutMs)
      log.info({ reconnect }, 'bridge: upstream connected')
    },
    onFrame,
    onClose(reason) {
      aliveAtDrop = conn.lastAlive
      book.disconnected()
      outbox.requeueInflight()
      authPending = false
      authEventId = undefined
      clearTimeout(authTimer)
      refreshState()
      log.warn({ reason }, 'bridge: upstream connection lost')
    },
    onRetry() {
      metrics.reconnects.inc(label)
      info = fetchRelayInfo(o.url)
    },
    onError: (err) => log.error({ err }, 'bridge: handling an upstream frame failed'),
  })

  function onFrame(f: unknown[]): void {
    switch (f[0]) {
      case 'EVENT':
        return onEvent(f[1], f[2])
      case 'EOSE':
        if (typeof f[1] === 'string') book.eose(f[1])
        return refreshState()
      case 'CLOSED':
        if (typeof f[1] === 'string') book.closed(f[1], String(f[2] ?? ''))
        return refreshState()
      case 'OK':
        if (typeof f[1] === 'string') onOk(f[1], f[2] === true, String(f[3] ?? ''))
        return
      case 'AUTH':
        if (typeof f[1] === 'string' && f[1].length <= 256) {
          challenge = f[1]
          if (authPending && !authEventId) sendAuth()
        }
        return
      case 'NOTICE':
        if (typeof f[1] === 'string') book.notice(f[1])
        return
    }
  }

  /** Only what we subscribed for goes on: kind 24133/24134 p-tagged to a key we listen for here. */
  function onEvent(subId: unknown, ev: unknown): void {
    if (typeof subId !== 'string' || typeof ev !== 'object' || ev === null) return
    const e = ev as NostrEvent
    if (e.pubkey === o.probeKey.pubkey) return book.probeSeen(subId, e.id)
    if (!Array.isArray(e.tags)) return
    let ours = false
    for (const t of e.tags)
      if (Array.isArray(t) && t[0] === 'p' && typeof t[1] === 'string' && book.covers(t[1], e.kind)) {
        ours = true
        break
      }
    if (!ours) return
    metrics.eventsIn.inc(label)
    o.receive(e, o.url)
  }

  function authenticate(): void {
    if (authPending) return
    authPending = true
    authTimer = setTimeout(() => conn.drop('no answer to our AUTH'), AUTH_TIMEOUT_MS)
    authTimer.unref()
    if (challenge) sendAuth()
  }

  function sendAuth(): void {
    const ev = o.signAuth(o.url, challenge!)
    authEventId = ev.id
    conn.send(['AUTH', ev])
  }

  function onAuthAnswer(ok: boolean, reason: string): void {
    clearTimeout(authTimer)
    authEventId = undefined
    authPending = false
    if (!ok) {
      log.warn({ reason: reason.slice(0, 200) }, 'bridge: upstream refused our AUTH')
      return conn.drop('AUTH refused')
    }
    book.authed()
    drain()
  }

  function onOk(id: string, ok: boolean, reason: string): void {
    if (id === authEventId) return onAuthAnswer(ok, reason)
    const item = outbox.acked(id)
    if (!item) return
    if (ok) {
      rateDelay = 0
      return
    }
    metrics.okFalse.inc({ ...label, prefix: prefixOf(reason) })
    if (reason.startsWith('auth-required:') && !item.authRetried) {
      item.authRetried = true
      outbox.retry(item)
      return authenticate()
    }
    if (reason.startsWith('rate-limited:') && item.rateRetries < MAX_RATE_RETRIES) {
      item.rateRetries++
      outbox.retry(item)
      rateDelay = Math.min(30_000, rateDelay === 0 ? 1000 : rateDelay * 2)
      pausedUntil = Date.now() + rateDelay
      return scheduleDrain(rateDelay)
    }
    if (!reason.startsWith('duplicate:')) log.debug({ id, reason: reason.slice(0, 200) }, 'bridge: upstream refused an event')
  }

  function scheduleDrain(ms: number): void {
    if (drainTimer) return
    drainTimer = setTimeout(() => {
      drainTimer = undefined
      drain()
    }, ms)
    drainTimer.unref()
  }

  function armHoldTimer(): void {
    clearTimeout(holdTimer)
    const at = outbox.nextDeadline()
    if (at === undefined) return
    holdTimer = setTimeout(
      () => {
        for (const item of outbox.releaseOverdue()) {
          metrics.confirmTimeouts.inc(label)
          log.warn({ event: item.event.id, kind: item.event.kind }, 'bridge: sending an event before the upstream confirmed the keys it announces')
        }
        armHoldTimer()
        drain()
      },
      Math.max(0, at - Date.now()),
    )
    holdTimer.unref()
  }

  function drain(): void {
    if (closed || !conn.open || authPending) return
    const t = Date.now()
    if (t < pausedUntil) return scheduleDrain(pausedUntil - t)
    if (!book.live && t - connectedAt < cfg.confirmTimeoutMs) return
    for (;;) {
      if (conn.bufferedAmount > MAX_SOCKET_BUFFER) return scheduleDrain(20)
      const item = outbox.take()
      if (!item) return
      conn.send(`["EVENT",${item.json}]`)
      outbox.sent(item)
      metrics.eventsOut.inc(label)
    }
  }

  return {
    url: o.url,
    read: o.read,
    write: o.write,
    want(pubkey, kinds) {
      if (!o.read) return
      book.want(pubkey, kinds)
      refreshState()
    },
    unwant(pubkey) {
      book.unwant(pubkey)
      refreshState()
    },
    isWanted: (pubkey) => book.isWanted(pubkey),
    isConfirmed: (pubkey) => book.isConfirmed(pubkey),
    unconfirmed: () => [...book.unconfirmed()],
    send(event, json, waitFor) {
      if (!o.write || closed) return
      outbox.push(event, json, waitFor)
      if (waitFor && waitFor.length > 0) armHoldTimer()
      drain()
    },
    status() {
      refreshState()
      return {
        url: o.url,
        read: o.read,
        write: o.write,
        state,
        for: Date.now() - stateSince,
        openReqs: book.openReqs,
        keys: book.wanted,
        unconfirmed: [...book.unconfirmed()].length,
        queued: outbox.ready + outbox.held + outbox.inflight,
        held: outbox.held,
        limits: { ...limits },
      }
    },
    async close() {
      closed = true
      clearTimeout(drainTimer)
      clearTimeout(holdTimer)
      clearTimeout(authTimer)
      book.close()
      await conn.close()
      refreshState()
    },
  }
}
