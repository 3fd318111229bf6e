// The `bridge` section of the configuration: upstream relays, how a subscription is confirmed, and
// the bounds of everything an upstream (or an admin's nostrconnect URI) can make us hold.
import { z } from 'zod'

export const wsUrl = z
  .string()
  .max(512)
  .refine((u) => {
    try {
      const p = new URL(u)
      return (p.protocol === 'ws:' || p.protocol === 'wss:') && p.hostname !== ''
    } catch {
      return false
    }
  }, 'must be a ws:// or wss:// URL')

const upstreamSchema = z
  .object({
    url: wsUrl,
    /** Subscribe there for bunker traffic (requests reach us from it). */
    read: z.boolean().default(true),
    /** Publish the bunker's events there. */
    write: z.boolean().default(true),
  })
  .strict()

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)
/** A NIP-01 filter: what a stream mirrors. */
const filterSchema = z
  .object({
    ids: z.array(hex64).max(1000).optional(),
    authors: z.array(hex64).max(1000).optional(),
    kinds: z.array(z.number().int().min(0).max(65535)).max(100).optional(),
    since: z.number().int().nonnegative().optional(),
    until: z.number().int().nonnegative().optional(),
    limit: z.number().int().nonnegative().optional(),
  })
  .catchall(z.array(z.string().max(1024)).max(1000))
  .refine(
    (f) => Object.keys(f).every((k) => ['ids', 'authors', 'kinds', 'since', 'until', 'limit'].includes(k) || /^#[a-zA-Z]$/.test(k)),
    'unknown filter field',
  )

const streamSchema = z
  .object({
    /** down: REQ upstream, publish into our relay; up: our accepted events out; both. */
    dir: z.enum(['down', 'up', 'both']),
    urls: z.array(wsUrl).min(1).max(16),
    /** One NIP-01 filter; `up` matches it against each accepted event (limit does not apply). */
    filter: filterSchema,
  })
  .strict()

export const bridgeSchema = z
  .object({
    upstreams: z.array(upstreamSchema).max(64).default([]),
    /**
     * What proves an upstream listens for a new key: its EOSE for a REQ opened after the key was
     * registered, or (probe) a throwaway event p-tagged to the key seen coming back on that REQ.
     */
    confirm: z.enum(['eose', 'probe']).default('eose'),
    /** How long a reply announcing a key waits for that confirmation, per upstream; then it is sent anyway (logged, counted). */
    confirmTimeoutMs: z.number().int().min(0).max(60_000).default(5000),
    /** How long start-up waits for every upstream to be healthy before printing the bunker:// line. */
    startTimeoutMs: z.number().int().min(0).max(120_000).default(10_000),
    /** Probe mode: a fresh probe every this many ms until one comes back. */
    probeIntervalMs: z.number().int().min(10).max(10_000).default(250),
    /** Outbound queue per upstream: events, and bytes. The oldest is dropped when full. */
    queueMax: z.number().int().positive().max(1_000_000).default(10_000),
    queueMaxBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** An ephemeral event not delivered to an upstream within this is dropped there (its reader has given up). */
    ephemeralTtlSeconds: z.number().int().positive().max(3600).default(30),
    /** Reconnect backoff: full jitter between min and a cap doubling up to max; reset after stableMs connected. */
    reconnectMinMs: z.number().int().positive().default(500),
    reconnectMaxMs: z.number().int().positive().default(30_000),
    stableMs: z.number().int().positive().default(60_000),
    pingSeconds: z.number().int().positive().max(600).default(20),
    /** On reconnect, REQs ask for events since the last sign of life minus this, so requests sent meanwhile are heard once. */
    sinceSlackSeconds: z.number().int().nonnegative().max(3600).default(10),
    /** Stored events a reconnect may bring back per REQ. */
    replayLimit: z.number().int().nonnegative().max(5000).default(500),
    /** Largest frame accepted from an upstream; defaults to the relay's maxMessageBytes. */
    maxMessageBytes: z.number().int().positive().optional(),
    /** Cap on #p values per filter, whatever the upstream's NIP-11 allows. */
    maxKeysPerFilter: z.number().int().positive().max(10_000).default(256),
    /** Per-key REQs are merged into the main subscription after this much quiet (make-before-break). */
    mergeDelayMs: z.number().int().nonnegative().max(60_000).default(1000),
    /** Relays opened for nostrconnect:// clients, over all keys. */
    maxLinkedRelays: z.number().int().nonnegative().max(1000).default(32),
    streams: z.array(streamSchema).max(32).default([]),
  })
  .strict()
  .prefault({})

export type BridgeConfig = z.infer<typeof bridgeSchema>
export type UpstreamConfig = BridgeConfig['upstreams'][number]
export type StreamConfig = BridgeConfig['streams'][number]
