// Prometheus metrics (prom-client). Relay counters are read from relay.stats at scrape time, so the
// hot path pays nothing for them.
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client'
import type { Relay } from '../relay/relay.ts'

export interface Metrics {
  registry: Registry
  /** Bunker request service time (request accepted -> reply dispatched), seconds. */
  bunkerService: Histogram<'method' | 'outcome'>
  /** The same, as quantiles over the last ten minutes (for benchmarks and dashboards). */
  bunkerServiceQuantiles: Summary<'method'>
  bunkerRequests: Counter<'method' | 'outcome'>
  text(): Promise<string>
}

export function createMetrics(relay: Relay): Metrics {
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
  gauge('nsecrelay_connections', 'Open WebSocket connections', () => relay.stats.connections)
  gauge('nsecrelay_subscriptions', 'Open client subscriptions', () => relay.stats.subscriptions)
  gauge('nsecrelay_dispatch_entries', 'Live subscriptions and in-process sinks in the dispatch table', () => relay.stats.liveSinks)
  gauge('nsecrelay_events_accepted_total', 'Events accepted since start', () => relay.stats.events.accepted)
  gauge('nsecrelay_events_rejected_total', 'Events rejected since start', () => relay.stats.events.rejected)
  gauge('nsecrelay_reqs_total', 'REQs served since start', () => relay.stats.reqs)
  const bunkerService = new Histogram({
    name: 'nsecrelay_bunker_service_seconds',
    help: 'Bunker service time per request: accepted by the relay to reply dispatched',
    labelNames: ['method', 'outcome'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1, 10],
    registers: [registry],
  })
  const bunkerServiceQuantiles = new Summary({
    name: 'nsecrelay_bunker_service_quantile_seconds',
    help: 'Bunker service time per request, quantiles over the last ten minutes',
    labelNames: ['method'] as const,
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [registry],
  })
  const bunkerRequests = new Counter({
    name: 'nsecrelay_bunker_requests_total',
    help: 'Bunker requests by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  })
  return { registry, bunkerService, bunkerServiceQuantiles, bunkerRequests, text: () => registry.metrics() }
}
