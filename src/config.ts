// Configuration: defaults < config file (JSON) < environment < command line, validated by zod.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { nip19 } from 'nostr-tools'
import { z } from 'zod'
import { secp256k1 } from '../native/secp256k1/index.ts'

const limitsSchema = z
  .object({
    maxMessageBytes: z.number().int().positive(),
    maxSubscriptions: z.number().int().positive(),
    maxFilters: z.number().int().positive(),
    maxLimit: z.number().int().positive(),
    defaultLimit: z.number().int().nonnegative(),
    maxEventTags: z.number().int().positive(),
    maxFutureSeconds: z.number().int().nonnegative(),
    maxPastSeconds: z.number().int().nonnegative(),
    maxBufferedBytes: z.number().int().positive(),
    maxEventsPerMinute: z.number().int().nonnegative(),
  })
  .partial()
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

const pubkey = z.string().transform((v, ctx) => {
  if (/^[0-9a-f]{64}$/.test(v)) return v
  try {
    const d = nip19.decode(v)
    if (d.type === 'npub') return d.data
  } catch {}
  ctx.addIssue({ code: 'custom', message: `not an npub or hex pubkey: ${v.slice(0, 70)}` })
  return z.NEVER
})

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
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    limits: limitsSchema.default({}),
    query: querySchema.default({}),
    storage: storageSchema.prefault({}),
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
      })
      .strict()
      .prefault({}), // an absent `bunker` is parsed as {}, so the field defaults above apply
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
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
}

function vaultSecretFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NSECRELAY_VAULT_SECRET) return env.NSECRELAY_VAULT_SECRET
  if (env.NSECRELAY_VAULT_SECRET_FILE) return readFileSync(env.NSECRELAY_VAULT_SECRET_FILE, 'utf8').trim()
  return undefined
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

export const USAGE = `usage: npm start -- [options]
  --host H           bind address (env NSECRELAY_HOST, default 127.0.0.1)
  --port P           port, 0 for any free one (env NSECRELAY_PORT, default 7777)
  --data DIR         LMDB data directory (env NSECRELAY_DATA, default ./data)
  --admin KEY        admin npub or hex pubkey, repeatable (env NSECRELAY_ADMINS, comma separated)
  --public-url URL   URL clients reach this relay at, repeatable
  --config FILE      JSON config file (env NSECRELAY_CONFIG)
  --log-level L      fatal|error|warn|info|debug|trace|silent (env NSECRELAY_LOG_LEVEL)
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
    vaultSecret: vaultSecretFrom(env),
  })
  const fromArgs = defined({
    host: values.host,
    port: values.port,
    data: values.data,
    admins: values.admin,
    publicUrls: values['public-url'],
    logLevel: values['log-level'],
  })
  const parsed = configSchema.safeParse({ ...file, ...fromEnv, ...fromArgs })
  if (!parsed.success) throw new Error(`invalid configuration: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

export class HelpRequested extends Error {}
