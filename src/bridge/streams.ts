// General mirroring in the manner of strfry's router: each configured stream names relays, a
// direction and one filter. Down: a REQ there, and what matches comes into our relay through the
// pipeline (origin bridge, full verification). Up: events our relay accepts (onAccepted: ephemeral
// ones are never stored, so not from the store) that match go out there, through a bounded queue.
// An event is never sent back to the relay it came from. One connection per stream and relay.
import type { Logger } from 'pino'
import { matchFilter, type Filter } from 'nostr-tools/filter'
import type { NostrEvent, Origin, Relay } from '../../relay/relay.ts'
import type { BridgeConfig, StreamConfig } from './config.ts'
import { createConnection, type Connection } from './connection.ts'
import { normaliseRelayUrl } from './links.ts'
import { prefixOf, type BridgeMetrics } from './metrics.ts'
import { createOutbox, type DropReason, type Outbox } from './outbox.ts'

/** Events of one stream being verified and ingested at once; more are dropped. */
const MAX_INGEST_IN_FLIGHT = 1000
const MAX_SOCKET_BUFFER = 1024 * 1024

export interface Streams {
  close(): Promise<void>
}

interface Leg {
  url: string
  down: boolean
  up: boolean
  conn: Connection
  outbox: Outbox
  ingesting: number
}

export function startStreams(
  streams: StreamConfig[],
  o: { relay: Pick<Relay, 'publish' | 'hooks'>; cfg: BridgeConfig; maxPayload: number; metrics: BridgeMetrics; log: Logger },
): Streams {
  const legs: Array<Leg & { filter: Filter }> = []
  let closed = false

  function open(stream: StreamConfig, index: number, text: string): void {
    const url = normaliseRelayUrl(text)
    if (!url) return void o.log.warn({ stream: index, url: text }, 'bridge: stream relay skipped (not a ws(s) URL)')
    const filter = stream.filter as Filter
    const label = { upstream: url }
    const subId = `nsrs${index}`
    let aliveAtDrop = 0
    const leg: Leg & { filter: Filter } = {
      url,
      filter,
      down: stream.dir !== 'up',
      up: stream.dir !== 'down',
      ingesting: 0,
      outbox: createOutbox({
        maxItems: o.cfg.queueMax,
        maxBytes: o.cfg.queueMaxBytes,
        ttlMs: o.cfg.ephemeralTtlSeconds * 1000,
        holdMs: 0,
        okTimeoutMs: 30_000,
        dropped: (reason: DropReason) => o.metrics.dropped.inc({ ...label, reason }),
      }),
      conn: createConnection({
        url,
        maxPayload: o.maxPayload,
        reconnectMinMs: o.cfg.reconnectMinMs,
        reconnectMaxMs: o.cfg.reconnectMaxMs,
        stableMs: o.cfg.stableMs,
        pingSeconds: o.cfg.pingSeconds,
        onOpen(reconnect) {
          if (leg.down) {
            // after an outage, what was published meanwhile (as far as the relay kept it)
            const since = reconnect && aliveAtDrop > 0 ? Math.floor(aliveAtDrop / 1000) - o.cfg.sinceSlackSeconds : undefined
            leg.conn.send(['REQ', subId, since === undefined ? filter : { ...filter, since: Math.max(filter.since ?? 0, since) }])
          }
          drain(leg)
        },
        onFrame(f) {
          if (f[0] === 'EVENT' && f[1] === subId) return down(leg, f[2])
          if (f[0] === 'OK' && typeof f[1] === 'string') {
            if (leg.outbox.acked(f[1]) && f[2] !== true) o.metrics.okFalse.inc({ ...label, prefix: prefixOf(String(f[3] ?? '')) })
          }
        },
        onClose() {
          aliveAtDrop = leg.conn.lastAlive
          leg.outbox.requeueInflight()
        },
        onRetry: () => o.metrics.reconnects.inc(label),
        onError: (err) => o.log.error({ err, upstream: url }, 'bridge: handling a stream frame failed'),
      }),
    }
    legs.push(leg)
  }

  function down(leg: Leg & { filter: Filter }, ev: unknown): void {
    if (typeof ev !== 'object' || ev === null) return
    const e = ev as NostrEvent
    // only what was asked for; the pipeline checks the rest (shape, id, signature)
    if (!Array.isArray(e.tags) || !matchFilter({ ...leg.filter, limit: undefined, since: undefined, until: undefined }, e as never)) return
    if (leg.ingesting >= MAX_INGEST_IN_FLIGHT) return void o.metrics.dropped.inc({ upstream: leg.url, reason: 'ingest-full' })
    leg.ingesting++
    o.metrics.eventsIn.inc({ upstream: leg.url })
    o.relay.publish(e, { type: 'bridge', upstream: leg.url }).then(
      () => leg.ingesting--,
      () => leg.ingesting--,
    )
  }

  function drain(leg: Leg): void {
    while (leg.conn.open && leg.conn.bufferedAmount < MAX_SOCKET_BUFFER) {
      const item = leg.outbox.take()
      if (!item) return
      leg.conn.send(`["EVENT",${item.json}]`)
      leg.outbox.sent(item)
      o.metrics.eventsOut.inc({ upstream: leg.url })
    }
    if (leg.conn.open) setTimeout(() => drain(leg), 20).unref()
  }

  const onAccepted = (event: NostrEvent, origin: Origin) => {
    if (closed) return
    let json: string | undefined
    for (const leg of legs) {
      if (!leg.up || (origin.type === 'bridge' && origin.upstream === leg.url)) continue
      try {
        if (!matchFilter(leg.filter, event as never)) continue
        json ??= JSON.stringify(event)
        leg.outbox.push(event, json, undefined)
        drain(leg)
      } catch (err) {
        o.log.error({ err }, 'bridge: mirroring an event failed')
      }
    }
  }

  streams.forEach((s, i) => {
    for (const url of s.urls) open(s, i, url)
  })
  if (legs.some((l) => l.up)) o.relay.hooks.onAccepted.push(onAccepted)
  if (legs.length > 0) o.log.info({ streams: streams.length, relays: legs.length }, 'bridge: mirroring streams started')

  return {
    async close() {
      closed = true
      const i = o.relay.hooks.onAccepted.indexOf(onAccepted)
      if (i >= 0) o.relay.hooks.onAccepted.splice(i, 1)
      await Promise.all(legs.map((l) => l.conn.close()))
    },
  }
}
