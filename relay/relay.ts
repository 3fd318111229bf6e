// A relay instance: the pipeline, the dispatch table, its sessions, and the host API plugins use.
// Several instances share one LMDB environment (each with its own store namespace) and one runtime
// (signature checks, purge timer: runtime.ts); the server routes URL paths to them.
import { createDispatchTable } from './dispatch.ts'
import type { NostrEvent } from './event.ts'
import { normaliseFilters, type Filter, type NormFilter } from './filter.ts'
import { createHooks, type Hooks, type Origin, type RejectEvent, type RejectFilter } from './hooks.ts'
import { infoDocument, packageInfo, type Nip11Extra, type RelayInfo } from './info.ts'
import { ingest, type Outcome, type Pipeline } from './ingest.ts'
import { defaultLimits, type Limits } from './limits.ts'
import { createdAtWithin, maxEventTags, notExpired, protectedEvents } from './policy/events.ts'
import { maxConnectionValues, maxFilters, maxFilterValues, maxHeldValues, maxSubscriptions } from './policy/filters.ts'
import { eventsPerMinute } from './policy/rate.ts'
import { createRuntime, type RelayRuntime } from './runtime.ts'
import { nowSeconds } from './time.ts'
import { openSession, type Session, type Transport } from './session.ts'
import type { EventStore } from './store/store.ts'
import { defaultQuerySettings, type QuerySettings, type StreamHost } from './stream.ts'

export type { Outcome, Origin, Filter, NostrEvent, Hooks, Transport, Session, Limits, RelayInfo, QuerySettings, RelayRuntime, Nip11Extra }
/** The NIP-01 id hash, for plugins that sign: one serialisation for checking and signing. */
export { eventHash } from './verify.ts'

export interface RelayOptions {
  store: EventStore
  /** What the relays of one process share; without it the relay makes (and closes) its own. */
  runtime?: RelayRuntime
  /** Unique per relay of a runtime: keeps its ephemeral ids apart from the others'. */
  runtimeKey?: string
  limits?: Partial<Limits>
  /** Paging of stored results and COUNT bounds (stream.ts). */
  query?: Partial<QuerySettings>
  info?: Partial<RelayInfo>
  /** Public URLs of this relay, checked against NIP-42 relay tags; empty accepts any. */
  urls?: string[] | (() => string[])
  /** Worker threads for signature checks (of a runtime of its own); 0 checks everything on the main thread. */
  verifyWorkers?: number
  /** Read at each NIP-11 request: fields and limitation entries a relay's own settings decide. */
  nip11?: () => Nip11Extra
  /** Receives unexpected errors (a failed commit, a throwing sink); never secrets. */
  onError?: (err: unknown, where: string) => void
}

export interface SubscriptionHandle {
  close(): void
}

export interface RelayStats {
  connections: number
  subscriptions: number
  reqs: number
  /** Filter values held by all client subscriptions. */
  filterValues: number
  events: { accepted: number; rejected: number; duplicate: number }
  readonly liveSinks: number
  /** Entries in the dispatch index: one per value a subscription is filed under. */
  readonly indexEntries: number
}

export interface Relay {
  /** Synchronous: once it returns, every later accepted event that matches reaches the sink. */
  subscribe(filters: Filter[], sink: (event: NostrEvent, json: string) => void): SubscriptionHandle
  /**
   * The same pipeline as a client EVENT; resolves with the OK outcome. `signedHere` skips the
   * signature check for an event this process has just signed itself.
   */
  publish(event: NostrEvent, origin?: Origin, opts?: { signedHere?: boolean }): Promise<Outcome>
  readonly hooks: Hooks
  /** `defaultLimit` and `maxLimit` are read at each query: they may be changed on a live relay. */
  readonly limits: Limits
  readonly stats: RelayStats
  /** Opens a session for a new client connection. */
  attach(transport: Transport): Session
  info(): Record<string, unknown>
  /** Adds NIP numbers to the NIP-11 document (plugins declare what they add). */
  addNips(...nips: number[]): void
  /** Changes name, description, pubkey, contact or icon of the NIP-11 document. */
  setInfo(patch: Partial<Pick<RelayInfo, 'name' | 'description' | 'pubkey' | 'contact' | 'icon'>>): void
  /** Sends every client a NOTICE and closes its connection; the relay itself stays usable. */
  disconnectAll(notice: string): void
  /** Resolves once the relay can take load at full speed (its signature-check workers loaded). */
  readonly ready: Promise<void>
  /** Stops timers and closes every live session. */
  close(): void
}

/** The write policy from the limits, in order: the first rejection wins. */
function eventPolicy(limits: Limits): RejectEvent[] {
  return [
    ...(limits.maxEventsPerMinute > 0 ? [eventsPerMinute(limits.maxEventsPerMinute)] : []),
    maxEventTags(limits.maxEventTags),
    createdAtWithin(limits.maxFutureSeconds, limits.maxPastSeconds),
    notExpired,
    protectedEvents,
  ]
}

/** The read policy from the limits: the cheap shape checks first, then what the REQ would hold (over every relay of the process). */
function filterPolicy(limits: Limits, heldValues: () => number): RejectFilter[] {
  return [
    maxFilters(limits.maxFilters),
    maxFilterValues(limits.maxFilterValues),
    maxSubscriptions(limits.maxSubscriptions),
    maxConnectionValues(limits.maxConnectionValues),
    maxHeldValues(limits.maxHeldFilterValues, heldValues),
  ]
}

export function createRelay(opts: RelayOptions): Relay {
  const limits: Limits = { ...defaultLimits, ...opts.limits }
  const onError = opts.onError ?? ((err, where) => console.error(`relay error in ${where}:`, err))
  const counters = { subscriptions: 0, reqs: 0, filterValues: 0 }
  const ownRuntime = opts.runtime === undefined
  const runtime = opts.runtime ?? createRuntime({ verifyWorkers: opts.verifyWorkers, onError })
  const hooks = createHooks()
  hooks.rejectEvent.push(...eventPolicy(limits))
  hooks.rejectFilter.push(...filterPolicy(limits, () => runtime.held.filterValues))
  const dispatch = createDispatchTable((err) => onError(err, 'sink'))
  const pipeline: Pipeline = {
    store: opts.store,
    dispatch,
    hooks,
    recentEphemeral: runtime.recentEphemeral,
    recentPrefix: opts.runtimeKey ?? '',
    stats: { accepted: 0, rejected: 0, duplicate: 0 },
    verifier: runtime.verifier,
    onError,
  }
  const info: RelayInfo = {
    ...packageInfo,
    description: 'A Nostr relay with a built-in NIP-46 bunker',
    ...opts.info,
  }

  const withLimit = (f: NormFilter) => ({ filter: f, limit: Math.min(f.limit ?? limits.defaultLimit, limits.maxLimit) })
  const queries = queryHost(opts.store, limits, { ...defaultQuerySettings, ...opts.query }, withLimit, (err) => onError(err, 'query'))
  const unpurge = runtime.purge(opts.store)
  const urls = opts.urls
  const sessionContext = {
    pipeline,
    limits,
    relayUrls: typeof urls === 'function' ? urls : () => urls ?? [],
    counters,
    held: runtime.held,
    queries,
  }
  const sessions = new Map<Transport, Session>()

  return {
    subscribe(raws, sink) {
      const filters = normaliseFilters(raws)
      if (typeof filters === 'string') throw new Error(`subscribe: ${filters}`)
      const sub = dispatch.add(filters, sink)
      return { close: () => dispatch.remove(sub) }
    },
    publish: (event, origin = { type: 'local' }, o = {}) => ingest(pipeline, event, origin, o.signedHere === true),
    hooks,
    limits,
    ready: runtime.ready,
    stats: {
      get connections() {
        return sessions.size
      },
      get subscriptions() {
        return counters.subscriptions
      },
      get reqs() {
        return counters.reqs
      },
      get filterValues() {
        return counters.filterValues
      },
      events: pipeline.stats,
      get liveSinks() {
        return dispatch.size
      },
      get indexEntries() {
        return dispatch.entries
      },
    },
    attach(transport) {
      const session = openSession(sessionContext, transport)
      sessions.set(transport, session)
      const detach = session.detach
      return {
        info: session.info,
        receive: session.receive,
        drain: session.drain,
        notice: session.notice,
        detach() {
          sessions.delete(transport)
          detach()
        },
      }
    },
    info: () => infoDocument(info, limits, opts.nip11?.()),
    addNips(...nips) {
      info.extraNips = [...(info.extraNips ?? []), ...nips]
    },
    setInfo(patch) {
      Object.assign(info, patch)
    },
    disconnectAll(notice) {
      for (const [t, session] of [...sessions]) {
        session.notice(notice)
        t.close(notice)
      }
    },
    close() {
      unpurge()
      for (const t of [...sessions.keys()]) t.close()
      if (ownRuntime) void runtime.close()
    },
  }
}

/**
 * Stored queries for sessions. A page and the pause threshold stay well under the slow-consumer
 * bound (maxBufferedBytes), so a stream that respects them is never cut by it. A COUNT counts every
 * match (a filter's own limit, when given, still caps it) until its work budget runs out.
 */
function queryHost(
  store: EventStore,
  limits: Limits,
  settings: QuerySettings,
  withLimit: (f: NormFilter) => { filter: NormFilter; limit: number },
  onError: (err: unknown) => void,
): StreamHost {
  const quarter = Math.max(1, Math.floor(limits.maxBufferedBytes / 4))
  const effective = { ...settings, pageBytes: Math.min(settings.pageBytes, quarter), highWaterBytes: Math.min(settings.highWaterBytes, quarter) }
  return {
    settings: effective,
    maxJobs: limits.maxSubscriptions,
    onError,
    query: (filters) => store.cursor({ filters: filters.map(withLimit), now: nowSeconds(), scanBudget: settings.scanBudget }),
    count: (filters) =>
      store.cursor({
        filters: filters.map((filter) => ({ filter, limit: filter.limit ?? Number.POSITIVE_INFINITY })),
        now: nowSeconds(),
        scanBudget: settings.countBudget,
        count: true,
      }),
  }
}
