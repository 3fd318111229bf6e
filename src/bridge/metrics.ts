// Prometheus metrics of the bridge, per upstream. The upstream label takes only configured URLs and
// nostrconnect relays (bounded by bridge.maxLinkedRelays); the OK prefix label only NIP-01's.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type UpstreamState = 'down' | 'connecting' | 'syncing' | 'healthy' | 'closed'
const STATE_VALUE: Record<UpstreamState, number> = { closed: -1, down: 0, connecting: 1, syncing: 2, healthy: 3 }

export interface BridgeMetrics {
  confirmSeconds: Histogram<'upstream' | 'cause'>
  confirmTimeouts: Counter<'upstream'>
  eventsIn: Counter<'upstream'>
  eventsOut: Counter<'upstream'>
  okFalse: Counter<'upstream' | 'prefix'>
  reconnects: Counter<'upstream'>
  dropped: Counter<'upstream' | 'reason'>
}

const PREFIXES = new Set(['duplicate', 'pow', 'blocked', 'rate-limited', 'invalid', 'restricted', 'mute', 'error', 'auth-required'])

/** The machine-readable prefix of an OK/CLOSED message, or "other". */
export const prefixOf = (message: string): string => {
  const p = message.split(':', 1)[0]
  return PREFIXES.has(p) ? p : 'other'
}

export function createBridgeMetrics(registry: Registry, states: () => Array<{ url: string; state: UpstreamState; queued: number }>): BridgeMetrics {
  const registers = [registry]
  new Gauge({
    name: 'nsecrelay_bridge_upstream_state',
    help: 'Upstream state: -1 closed, 0 down, 1 connecting, 2 syncing (a REQ awaits its EOSE), 3 healthy',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      this.reset()
      for (const s of states()) this.set({ upstream: s.url }, STATE_VALUE[s.state])
    },
  })
  new Gauge({
    name: 'nsecrelay_bridge_queued_events',
    help: 'Events waiting in an upstream’s outbound queue (held, ready or awaiting OK)',
    labelNames: ['upstream'] as const,
    registers,
    collect() {
      this.reset()
      for (const s of states()) this.set({ upstream: s.url }, s.queued)
    },
  })
  return {
    confirmSeconds: new Histogram({
      name: 'nsecrelay_bridge_confirm_seconds',
      help: 'Key registration (or reconnect) to the upstream confirming a subscription that covers it',
      labelNames: ['upstream', 'cause'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    confirmTimeouts: new Counter({
      name: 'nsecrelay_bridge_confirm_timeouts_total',
      help: 'Events announcing a key sent to an upstream without its confirmation, after bridge.confirmTimeoutMs',
      labelNames: ['upstream'] as const,
      registers,
    }),
    eventsIn: new Counter({ name: 'nsecrelay_bridge_events_in_total', help: 'Events received from an upstream', labelNames: ['upstream'] as const, registers }),
    eventsOut: new Counter({ name: 'nsecrelay_bridge_events_out_total', help: 'Events sent to an upstream', labelNames: ['upstream'] as const, registers }),
    okFalse: new Counter({
      name: 'nsecrelay_bridge_ok_false_total',
      help: 'OK false answers from an upstream, by NIP-01 prefix',
      labelNames: ['upstream', 'prefix'] as const,
      registers,
    }),
    reconnects: new Counter({
      name: 'nsecrelay_bridge_reconnects_total',
      help: 'Reconnect attempts to an upstream',
      labelNames: ['upstream'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'nsecrelay_bridge_dropped_total',
      help: 'Outbound events dropped: queue full, expired (ephemeral, past bridge.ephemeralTtlSeconds), or no OK in time',
      labelNames: ['upstream', 'reason'] as const,
      registers,
    }),
  }
}
