// Configuration: defaults < config file (JSON, comments allowed) < environment < command line, validated by zod.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { nip19 } from 'nostr-tools'
import { z } from 'zod'
import { secp256k1 } from '../native/secp256k1/index.ts'
import { isHex } from '../relay/event.ts'
import { stripJsonComments } from './jsonc.ts'
import { bridgeSchema } from './bridge/config.ts'

const limitsSchema = z
  .object({
    maxMessageBytes: z.number().int().positive(),
    maxSubscriptions: z.number().int().positive(),
    maxFilters: z.number().int().positive(),
    maxFilterValues: z.number().int().positive(),
    maxConnectionValues: z.number().int().positive(),
    maxHeldFilterValues: z.number().int().positive(),
    maxLimit: z.number().int().positive(),
    defaultLimit: z.number().int().nonnegative(),
    maxEventTags: z.number().int().positive(),
    maxFutureSeconds: z.number().int().nonnegative(),
    maxPastSeconds: z.number().int().nonnegative(),
    maxBufferedBytes: z.number().int().positive(),
    maxEventsPerMinute: z.number().int().nonnegative(),
    maxEventsPerSecondPerIp: z.number().int().nonnegative(),
    maxInputBytesPerSecondPerIp: z.number().int().nonnegative(),
    maxConnections: z.number().int().positive(),
    maxConnectionsPerIp: z.number().int().positive(),
  })
  .partial()
  .strict()

const accountsSchema = z
  .object({
    /** create_account and the NIP-89 announcement; needs a vault secret and a domain. */
    enabled: z.boolean().default(false),
    /** Domains names are made and served on (/.well-known/nostr.json). */
    domains: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'a domain name')
          .transform((d) => d.toLowerCase()),
      )
      .default([]),
    /** Who hears create_account and signs the NIP-89 event: the admin key, or a key of its own. */
    provider: z.enum(['admin', 'own']).default('admin'),
    /** NIP-89 profile of the provider. */
    name: z.string().min(1).max(100).default('nsecrelay'),
    picture: z.string().url().optional(),
    about: z.string().max(1000).optional(),
    /** Policy whose rules the creating client gets; none: session methods only (connect, ping, ...). */
    policyId: z.number().int().positive().optional(),
    /** What a requested name must also match, besides NIP-05's a-z 0-9 . _ - (1 to 64). */
    namePattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p)
          return true
        } catch {
          return false
        }
      }, 'a regular expression')
      .default('^[a-z0-9][a-z0-9._-]{0,31}$'),
    /** Names strangers may not take (`_`, the provider's own, always is). */
    reservedNames: z
      .array(z.string())
      .default(['admin', 'administrator', 'root', 'abuse', 'postmaster', 'hostmaster', 'webmaster', 'support', 'security', 'noreply', 'nostr']),
    /** Accounts one source address may create per hour (0: no bound). */
    perIpPerHour: z.number().int().nonnegative().default(5),
    /** Accounts everybody together may create per hour (0: no bound). */
    perHour: z.number().int().nonnegative().default(100),
    /** Keys create_account may make in all. */
    maxAccounts: z.number().int().nonnegative().default(10_000),
    /** Creations in flight at once: each is one scrypt. */
    maxPending: z.number().int().positive().default(8),
    /** The creating client's first connect waits for an admin's approval. */
    approveFirstConnect: z.boolean().default(false),
  })
  .strict()

/** Paging of stored results and COUNT bounds (relay/stream.ts, where each is explained). */
const querySchema = z
  .object({
    pageEvents: z.number().int().positive(),
    pageBytes: z.number().int().positive(),
    pageWork: z.number().int().positive(),
    highWaterBytes: z.number().int().positive(),
    maxStreams: z.number().int().positive(),
    liveBufferBytes: z.number().int().nonnegative(),
    scanBudget: z.number().int().positive(),
    countBudget: z.number().int().positive(),
  })
  .partial()
  .strict()

/**
 * What one author may keep stored (JSON bytes and events; ephemeral events are not stored). On by
 * default at a bound no ordinary user reaches, so one key cannot fill the disk; `block` refuses the
 * event (nothing acknowledged is ever lost), `prune` deletes the author's oldest regular events.
 * 0 lifts a bound.
 */
const storageSchema = z
  .object({
    quotaBytes: z
      .number()
      .int()
      .nonnegative()
      .default(100 * 1024 * 1024),
    quotaEvents: z.number().int().nonnegative().default(100_000),
    quotaAction: z.enum(['block', 'prune']).default('block'),
  })
  .strict()

/** The approval page (auth_url) for unknown clients' requests; README "Approval page". */
const approvalPageSchema = z
  .object({
    /** Public http(s) URL of this server; default: the first public URL, ws -> http, wss -> https. */
    url: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'an http(s) URL')
      .optional(),
    /** How long a request waits for a decision on the page (or an acl answer) before it is refused. */
    expirySeconds: z.number().int().min(1).max(86_400).default(300),
    /** Life of the one-time login link printed in the log (one live at a time). */
    loginLinkSeconds: z.number().int().min(10).max(86_400).default(300),
    /** Life of an admin's page session, and how many sessions are kept (the oldest goes first). */
    sessionSeconds: z.number().int().min(60).max(604_800).default(3600),
    maxSessions: z.number().int().min(1).max(1000).default(16),
  })
  .strict()

const pubkey = z.string().transform((v, ctx) => {
  if (isHex(v, 64)) return v
  try {
    const d = nip19.decode(v)
    if (d.type === 'npub') return d.data
  } catch {}
  ctx.addIssue({ code: 'custom', message: `not an npub or hex pubkey: ${v.slice(0, 70)}` })
  return z.NEVER
})

/** Hosted relays (src/relays): the LNbits-style relays at /nostrrelay/<id> and NIP-86 management. */
const relaysSchema = z
  .object({
    /** Global relay admins besides `admins` (hex or npub): NIP-86 on every relay, create and delete relays. */
    admins: z.array(pubkey).default([]),
    /** The relay the bunker runs on: "/" or a relay id; created with defaults when missing. */
    bunker: z
      .string()
      .regex(/^(\/|[A-Za-z0-9._~-]{1,128})$/, '"/" or a relay id')
      .default('/'),
    /** Relays at /nostrrelay/<id> this process may host. */
    maxRelays: z.number().int().nonnegative().default(10_000),
    /** Largest NIP-86 request body (bytes). */
    maxRpcBytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    /** NIP-98: seconds an authorization event stays valid either side of now. */
    authWindowSeconds: z.number().int().positive().max(600).default(60),
  })
  .strict()

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(7777),
    data: z.string().min(1).default('./data'),
    /** URLs clients use to reach this relay (NIP-42 relay tag, bunker:// URIs); derived when empty. */
    publicUrls: z.array(z.string().url()).default([]),
    /** Admin pubkeys as npub or hex; normalised to hex. */
    admins: z.array(pubkey).default([]),
    /** Wraps keys a second time so they come back unlocked at boot. Never logged. */
    vaultSecret: z.string().min(8).optional(),
    /**
     * Worker threads for signature checks. None by default with native secp256k1: a check (~80 µs)
     * then costs less than handing it to a thread, and ingest measured the same either way. With
     * the wasm fallback (~400 µs a check) one per core.
     */
    verifyWorkers: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(secp256k1.backend === 'native' ? 0 : availableParallelism()),
    /**
     * Behind a reverse proxy every connection comes from the proxy: name the header it puts the
     * client's address in (x-forwarded-for, x-real-ip), or the per-address limit caps everyone
     * together. Only set it when a proxy is in front: clients could claim any address otherwise.
     */
    clientIpHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** pretty: one readable line per entry; json: JSON lines. Default: pretty when stderr is a TTY. */
    logFormat: z.enum(['pretty', 'json']).optional(),
    limits: limitsSchema.default({}),
    query: querySchema.default({}),
    storage: storageSchema.prefault({}),
    relays: relaysSchema.prefault({}),
    bunker: z
      .object({
        /** Seconds an unknown client's request waits for an admin's acl answer. */
        aclTimeoutSeconds: z.number().positive().default(10),
        /** Requests whose created_at is further than this from now are refused (seconds). */
        requestWindowSeconds: z.number().int().positive().default(300),
        /** Relays returned by switch_relays; empty answers "null" (clients stay where they are). */
        relays: z.array(z.string()).default([]),
        /** scrypt cost (2^N) of NIP-49 key encryption; 16 is NIP-49's default, ~250 ms a key here. */
        scryptLogN: z.number().int().min(4).max(22).default(16),
        /** Approves every unknown client and request without asking: a single-user box, or benchmarks. */
        autoApprove: z.boolean().default(false),
        /** The account provider: create_account, NIP-05 names, NIP-89 (README "Accounts"). */
        accounts: accountsSchema.prefault({}),
        /** Worker threads for scrypt (key creation, unlock, vault); one per two cores. */
        scryptWorkers: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(Math.max(1, Math.floor(availableParallelism() / 2))),
        /** scrypt jobs that may wait for a worker; past that key creation and unlocking answer "rate-limited:". */
        scryptQueue: z.number().int().min(0).max(10_000).default(16),
        /** Failed unlock_key attempts allowed per key and minute (attempts in progress count). */
        unlockFailuresPerMinute: z.number().int().min(1).max(10_000).default(5),
        /**
         * Requests one client pubkey may send a minute (bursts of as many, refilled evenly); 0: no
         * limit. Admins are not limited. Over it, a request gets a `rate-limited:` error reply.
         */
        requestsPerMinute: z.number().int().nonnegative().default(1200),
        /**
         * Requests remembered against replays, each for the request window (~200 bytes each). When
         * full, new requests are refused, never ids forgotten; strangers fill at most half.
         */
        maxRememberedRequests: z.number().int().positive().default(200_000),
        /** Requests waiting on an admin's acl answer, in total; more are refused at once. */
        maxPendingApprovals: z.number().int().positive().default(100),
        /**
         * How an unknown client's request is approved: `acl` questions to the admins, the approval
         * `page` (auth_url), or `both`. Default: both when a public HTTP URL is known, else acl.
         */
        approval: z.enum(['acl', 'page', 'both']).optional(),
        approvalPage: approvalPageSchema.prefault({}),
      })
      .strict()
      .prefault({}), // an absent `bunker` is parsed as {}, so the field defaults above apply
    /** Upstream relays the bunker's traffic is mirrored through (src/bridge). */
    bridge: bridgeSchema,
  })
  .strict()

export type Config = z.infer<typeof configSchema>

const splitList = (s: string | undefined): string[] | undefined =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)

function readFileConfig(path: string | undefined): Record<string, unknown> {
  if (!path) return {}
  try {
    return JSON.parse(stripJsonComments(readFileSync(path, 'utf8'))) as Record<string, unknown>
  } catch (err) {
    throw new Error(`config file ${path}: ${(err as Error).message}`)
  }
}

function vaultSecretFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NSECRELAY_VAULT_SECRET) return env.NSECRELAY_VAULT_SECRET
  if (env.NSECRELAY_VAULT_SECRET_FILE) return readFileSync(env.NSECRELAY_VAULT_SECRET_FILE, 'utf8').trim()
  return undefined
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

export const USAGE = `usage: nsecrelay start [options]   (or: npm start -- [options])
  --host H           bind address (env NSECRELAY_HOST, default 127.0.0.1)
  --port P           port, 0 for any free one (env NSECRELAY_PORT, default 7777)
  --data DIR         LMDB data directory (env NSECRELAY_DATA, default ./data)
  --admin KEY        admin npub or hex pubkey, repeatable (env NSECRELAY_ADMINS, comma separated)
  --public-url URL   URL clients reach this relay at, repeatable
  --config FILE      config file, JSON with comments (env NSECRELAY_CONFIG; nsecrelay init writes one)
  --log-level L      fatal|error|warn|info|debug|trace|silent (env NSECRELAY_LOG_LEVEL)
  --log-format F     pretty|json (env NSECRELAY_LOG_FORMAT; default pretty on a terminal, else json)
  --upstream URL     ws(s):// relay the bunker is also reached through, repeatable
                     (env NSECRELAY_UPSTREAMS, comma separated; config bridge.upstreams)
  vault secret: env NSECRELAY_VAULT_SECRET or NSECRELAY_VAULT_SECRET_FILE`

/** Reads argv and env into a validated Config; throws a readable error on bad input. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      admin: { type: 'string', multiple: true },
      'public-url': { type: 'string', multiple: true },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      upstream: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) throw new HelpRequested()
  const file = readFileConfig(values.config ?? env.NSECRELAY_CONFIG)
  const fromEnv = defined({
    host: env.NSECRELAY_HOST,
    port: env.NSECRELAY_PORT,
    data: env.NSECRELAY_DATA,
    admins: splitList(env.NSECRELAY_ADMINS),
    logLevel: env.NSECRELAY_LOG_LEVEL,
    logFormat: env.NSECRELAY_LOG_FORMAT,
    vaultSecret: vaultSecretFrom(env),
  })
  const fromArgs = defined({
    host: values.host,
    port: values.port,
    data: values.data,
    admins: values.admin,
    publicUrls: values['public-url'],
    logLevel: values['log-level'],
    logFormat: values['log-format'],
  })
  const upstreams = values.upstream ?? splitList(env.NSECRELAY_UPSTREAMS)
  const bridge = upstreams ? { bridge: { ...(file.bridge as object), upstreams: upstreams.map((url) => ({ url })) } } : {}
  const parsed = configSchema.safeParse({ ...file, ...fromEnv, ...fromArgs, ...bridge })
  if (!parsed.success) throw new Error(`invalid configuration: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

export class HelpRequested extends Error {}
