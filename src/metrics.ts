// Prometheus metrics (prom-client). Relay counters are read from relay.stats at scrape time, so the
// hot path pays nothing for them; each carries a `relay` label (its path: "/", "/nostrrelay/<id>"),
// whose values only admins create (bounded by relays.maxRelays). Other label values come from fixed
// sets only: a label per name a stranger can choose would let them grow the registry (and every
// scrape) without bound.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Relay } from '../relay/relay.ts'
import { REFUSALS, type WireStats } from '../plugin/bunker/wire.ts'
import { createWindowQuantiles, type WindowQuantiles } from './quantiles.ts'

/**
 * The bunker passes only known method names (or "other"); this is the backstop: past this many
 * distinct names, any new one is counted as "other".
 */
export const MAX_METHOD_LABELS = 64
const QUANTILES = [0.5, 0.9, 0.99] as const
const QUANTILE_WINDOW_MS = 600_000

export interface Metrics {
  registry: Registry
  /** Bunker request service time (request accepted -> reply dispatched), seconds. */
  bunkerService: Histogram<'method' | 'outcome'>
  bunkerRequests: Counter<'method' | 'outcome'>
  /** Records one answered bunker request: service time histogram, quantiles and count. */
  observeBunker(method: string, outcome: 'ok' | 'error', seconds: number): void
  text(): Promise<string>
}

/** Maps a name to itself while fewer than `max` distinct names were seen, else to "other". */
function boundedLabels(max: number): (name: string) => string {
  const seen = new Set<string>(['other'])
  return (name) => {
    if (seen.has(name)) return name
    if (seen.size >= max) return 'other'
    seen.add(name)
    return name
  }
}

/** The relays a scrape reports, each with its label. */
export type RelaySource = () => Iterable<{ label: string; relay: Relay }>

export function createMetrics(relays: RelaySource, wire?: WireStats): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  const perRelay = (name: string, help: string, read: (r: Relay) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['relay'] as const,
      registers: [registry],
      collect() {
        this.reset() // a deleted relay's series go with it
        for (const { label, relay } of relays()) this.set({ relay: label }, read(relay))
      },
    })
  perRelay('nsecrelay_connections', 'Open WebSocket connections', (r) => r.stats.connections)
  perRelay('nsecrelay_subscriptions', 'Open client subscriptions', (r) => r.stats.subscriptions)
  perRelay('nsecrelay_dispatch_entries', 'Live subscriptions and in-process sinks in the dispatch table', (r) => r.stats.liveSinks)
  perRelay('nsecrelay_events_accepted_total', 'Events accepted since start', (r) => r.stats.events.accepted)
  perRelay('nsecrelay_events_rejected_total', 'Events rejected since start', (r) => r.stats.events.rejected)
  perRelay('nsecrelay_reqs_total', 'REQs served since start', (r) => r.stats.reqs)
  const bunkerService = new Histogram({
    name: 'nsecrelay_bunker_service_seconds',
    help: 'Bunker service time per request: accepted by the relay to reply dispatched',
    labelNames: ['method', 'outcome'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1, 10],
    registers: [registry],
  })
  const windows = new Map<string, WindowQuantiles>()
  new Gauge({
    name: 'nsecrelay_bunker_service_quantile_seconds',
    help: 'Bunker service time per request, quantiles over the last ten minutes (±2%)',
    labelNames: ['quantile', 'method'] as const,
    registers: [registry],
    collect() {
      this.reset()
      const now = Date.now()
      for (const [method, w] of windows) {
        const values = w.read(QUANTILES, now)
        if (values) for (const [i, q] of QUANTILES.entries()) this.set({ quantile: String(q), method }, values[i])
      }
    },
  })
  const bunkerRequests = new Counter({
    name: 'nsecrelay_bunker_requests_total',
    help: 'Bunker requests by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  })
  if (wire) {
    new Gauge({
      name: 'nsecrelay_bunker_refused_total',
      help: `Bunker requests not handled, by reason (${REFUSALS.join(', ')})`,
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        for (const reason of REFUSALS) this.set({ reason }, wire.refused[reason])
      },
    })
    gauge('nsecrelay_bunker_remembered_requests', 'Requests whose ids the bunker remembers against replays', () => wire.gauges.remembered())
    gauge('nsecrelay_bunker_remembered_stranger_requests', 'Of those, requests from clients the addressed key does not know', () =>
      wire.gauges.rememberedStrangers(),
    )
    gauge('nsecrelay_bunker_pending_approvals', 'Requests waiting on an admin’s acl answer', () => wire.gauges.pendingApprovals())
  }
  const methodLabel = boundedLabels(MAX_METHOD_LABELS)
  function observeBunker(method: string, outcome: 'ok' | 'error', seconds: number): void {
    const m = methodLabel(method)
    const o = outcome === 'ok' ? 'ok' : 'error'
    bunkerService.observe({ method: m, outcome: o }, seconds)
    bunkerRequests.inc({ method: m, outcome: o })
    const now = Date.now()
    let w = windows.get(m)
    if (!w) windows.set(m, (w = createWindowQuantiles(QUANTILE_WINDOW_MS, 5, now)))
    w.observe(seconds, now)
  }
  return { registry, bunkerService, bunkerRequests, observeBunker, text: () => registry.metrics() }
}
