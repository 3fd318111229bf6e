// NIP-86 relay management on each relay's own HTTP URL: POST, `Content-Type:
// application/nostr+json+rpc`, `{"method","params"}` in, `{"result","error"}` out, NIP-98 auth. Admins
// of a relay: its `pubkey` and the configured global admins. Besides NIP-86's methods, the relay
// lifecycle and LNbits accounts, so that a thin fork of the LNbits extension can drive this server
// (invoice paid -> setaccount). One declared table: name, who may call it, params schema, handler.
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { isHex } from '../../relay/event.ts'
import type { HttpReply, RelayPost } from '../../relay/server.ts'
import { nowSeconds } from '../../relay/time.ts'
import { createSeenIds, verifyHttpAuth } from './nip98.ts'
import type { Account } from './records.ts'
import type { Hosted, RecordPatch, Registry } from './registry.ts'
import { hexPubkey } from '../pubkey.ts'
import { patchSettings, RELAY_ID, type RelayRecord, defaultSettings } from './settings.ts'

export const RPC_CONTENT_TYPE = 'application/nostr+json+rpc'

export interface ManagementOptions {
  registry: Registry
  /** Global admins (hex): may manage every relay, create and delete relays. */
  admins: () => string[]
  /** Seconds a NIP-98 event stays valid either side of now. */
  authWindowSeconds?: number
  /** Accepted NIP-98 events remembered against replay. */
  maxRememberedAuth?: number
  /** Called after every change (metrics, logs). */
  onChange?: (method: string, relayId: string, by: string) => void
}

interface Call {
  registry: Registry
  /** The relay whose URL was called. */
  here: Hosted
  caller: string
  isGlobal: boolean
}

/** 'relay': an admin of the relay called; 'own': for a relay id param, its own admin on its own URL, or a global admin; 'global': global admins. */
type Scope = 'relay' | 'own' | 'global'

interface Method {
  scope: Scope
  /** Changes nothing: the same signed request may be sent again (a replayed change is refused). */
  reads?: boolean
  params: z.ZodType<unknown[]>
  run(call: Call, params: never): unknown | Promise<unknown>
}

class RpcError extends Error {}

const pubkeyParam = z.string().transform((s, ctx) => {
  const hex = hexPubkey(s)
  if (hex) return hex
  ctx.addIssue({ code: 'custom', message: 'expected a hex pubkey or npub' })
  return z.NEVER
})

/** A change's answer: true once it is committed. */
async function done(change: Promise<unknown>): Promise<true> {
  await change
  return true
}
const idParam = z.string().refine((s) => isHex(s, 64), 'expected a 64-character hex event id')
const reason = z.string().max(1000).optional()
const kindParam = z.number().int().min(0).max(65535)
const relayIdParam = z.string().regex(RELAY_ID, 'expected a relay id (letters, digits, . _ ~ -, up to 128)')
const text = (max: number) => z.string().max(max)
const ip = z.string().min(1).max(64)
const pageParam = z
  .object({ offset: z.number().int().nonnegative().optional(), limit: z.number().int().min(1).max(1000).optional() })
  .strict()
  .optional()

/** A relay as LNbits' API shows it (NostrRelay; `meta` in camelCase), with what nsecrelay adds. */
export function relayJson(h: Hosted): Record<string, unknown> {
  const r = h.record
  return {
    id: r.id,
    user_id: r.userId,
    name: r.name,
    description: r.description,
    pubkey: r.pubkey,
    contact: r.contact,
    icon: r.icon,
    active: r.active,
    ...(r.settings ? { meta: r.settings } : {}),
    allowed_kinds: r.allowedKinds,
    denied_kinds: r.deniedKinds,
    urls: h.urls(),
  }
}

/** An account as LNbits' API shows it (NostrAccount). */
const accountJson = (relayId: string, a: Account) => ({
  relay_id: relayId,
  pubkey: a.pubkey,
  sats: a.sats,
  storage: a.storage,
  paid_to_join: a.paidToJoin,
  allowed: a.allowed,
  blocked: a.blocked,
})

const relayInput = z
  .object({
    id: z.string().optional(),
    name: text(256).optional(),
    description: text(4096).nullable().optional(),
    pubkey: text(128).nullable().optional(),
    contact: text(512).nullable().optional(),
    icon: text(2048).optional(),
    active: z.boolean().optional(),
    user_id: text(256).nullable().optional(),
    userId: text(256).nullable().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()

type RelayInput = z.infer<typeof relayInput>

function patchFrom(input: RelayInput, current: RelayRecord | undefined, lnbits: boolean): RecordPatch {
  const patch: RecordPatch = {}
  if (input.name !== undefined) patch.name = input.name
  if (input.description !== undefined) patch.description = input.description ?? ''
  if (input.pubkey !== undefined) patch.pubkey = hexPubkey(input.pubkey ?? '') ?? (input.pubkey ?? '').trim()
  if (input.contact !== undefined) patch.contact = input.contact ?? ''
  if (input.icon !== undefined) patch.icon = input.icon
  if (input.active !== undefined) patch.active = input.active
  const user = input.userId ?? input.user_id
  if (user !== undefined) patch.userId = user ?? ''
  const change = input.settings ?? input.meta
  if (change !== undefined) {
    if (!lnbits) throw new RpcError('invalid: the default relay takes its settings from the config file')
    const r = patchSettings(current?.settings ?? defaultSettings(), change)
    if (!r.ok) throw new RpcError(`invalid: ${r.error}`)
    patch.settings = r.settings
  } else if (!current && lnbits) patch.settings = defaultSettings()
  return patch
}

const accountInput = z
  .object({
    pubkey: pubkeyParam,
    relay_id: z.string().optional(),
    sats: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    storage: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    paid_to_join: z.boolean().optional(),
    paidToJoin: z.boolean().optional(),
    allowed: z.boolean().optional(),
    blocked: z.boolean().optional(),
  })
  .strict()

const blank = (pubkey: string): Account => ({ pubkey, sats: 0, storage: 0, paidToJoin: false, allowed: false, blocked: false })

function target(call: Call, id: string): Hosted {
  const h = call.registry.get(id)
  if (!h) throw new RpcError(`invalid: no relay ${JSON.stringify(id)}`)
  return h
}

async function setFlag(call: Call, pubkey: string, flag: 'blocked' | 'allowed', value: boolean): Promise<true> {
  const { records } = call.registry
  const id = call.here.id
  await records.putAccount(id, { ...(records.account(id, pubkey) ?? blank(pubkey)), [flag]: value })
  return true
}

async function editKinds(call: Call, kind: number, allow: boolean): Promise<true> {
  const r = call.here.record
  let allowed = r.allowedKinds
  let denied = r.deniedKinds.filter((k) => k !== kind)
  if (allow) allowed = [...new Set([...(allowed ?? []), kind])].sort((a, b) => a - b)
  else if (allowed?.includes(kind)) allowed = allowed.filter((k) => k !== kind)
  else denied = [...denied, kind].sort((a, b) => a - b)
  await call.registry.update(r.id, { allowedKinds: allowed, deniedKinds: denied })
  return true
}

const p = z.tuple
const none = z.tuple([]).rest(z.unknown())

const METHODS: Record<string, Method> = {
  supportedmethods: { scope: 'relay', reads: true, params: none, run: () => Object.keys(METHODS) },
  banpubkey: { scope: 'relay', params: p([pubkeyParam, reason]), run: (c, [pk]: [string]) => setFlag(c, pk, 'blocked', true) },
  unbanpubkey: { scope: 'relay', params: p([pubkeyParam, reason]), run: (c, [pk]: [string]) => setFlag(c, pk, 'blocked', false) },
  listbannedpubkeys: {
    scope: 'relay',
    reads: true,
    params: none,
    run: (c) => c.registry.records.accounts(c.here.id, { where: (a) => a.blocked }).items.map((a) => ({ pubkey: a.pubkey, reason: '' })),
  },
  allowpubkey: { scope: 'relay', params: p([pubkeyParam, reason]), run: (c, [pk]: [string]) => setFlag(c, pk, 'allowed', true) },
  unallowpubkey: { scope: 'relay', params: p([pubkeyParam, reason]), run: (c, [pk]: [string]) => setFlag(c, pk, 'allowed', false) },
  listallowedpubkeys: {
    scope: 'relay',
    reads: true,
    params: none,
    run: (c) => c.registry.records.accounts(c.here.id, { where: (a) => a.allowed }).items.map((a) => ({ pubkey: a.pubkey, reason: '' })),
  },
  listeventsneedingmoderation: { scope: 'relay', reads: true, params: none, run: () => [] },
  banevent: {
    scope: 'relay',
    params: p([idParam, reason]),
    async run(c, [id, why]: [string, string?]) {
      await c.registry.records.ban(c.here.id, id, why ?? '')
      await c.here.store.remove([id])
      return true
    },
  },
  allowevent: { scope: 'relay', params: p([idParam, reason]), run: (c, [id]: [string]) => done(c.registry.records.unban(c.here.id, id)) },
  listbannedevents: { scope: 'relay', reads: true, params: none, run: (c) => c.registry.records.banned(c.here.id).items },
  changerelayname: { scope: 'relay', params: p([text(256)]), run: (c, [name]: [string]) => done(c.registry.update(c.here.id, { name })) },
  changerelaydescription: {
    scope: 'relay',
    params: p([text(4096)]),
    run: (c, [description]: [string]) => done(c.registry.update(c.here.id, { description })),
  },
  changerelayicon: { scope: 'relay', params: p([text(2048)]), run: (c, [icon]: [string]) => done(c.registry.update(c.here.id, { icon })) },
  allowkind: { scope: 'relay', params: p([kindParam]), run: (c, [k]: [number]) => editKinds(c, k, true) },
  disallowkind: { scope: 'relay', params: p([kindParam]), run: (c, [k]: [number]) => editKinds(c, k, false) },
  listallowedkinds: { scope: 'relay', reads: true, params: none, run: (c) => c.here.record.allowedKinds ?? [] },
  blockip: {
    scope: 'relay',
    params: p([ip, reason]),
    async run(c, [addr, why]: [string, string?]) {
      await c.registry.records.blockIp(c.here.id, addr, why ?? '')
      return true
    },
  },
  unblockip: { scope: 'relay', params: p([ip]), run: (c, [addr]: [string]) => done(c.registry.records.unblockIp(c.here.id, addr)) },
  listblockedips: { scope: 'relay', reads: true, params: none, run: (c) => c.registry.records.blockedIps(c.here.id).items },

  // The relay lifecycle and LNbits accounts.
  listrelays: { scope: 'global', reads: true, params: none, run: (c) => c.registry.list().map(relayJson) },
  getrelay: { scope: 'own', reads: true, params: p([relayIdParam.or(z.literal(''))]), run: (c, [id]: [string]) => relayJson(target(c, id)) },
  createrelay: {
    scope: 'global',
    params: p([relayIdParam.or(z.literal('')), relayInput.optional()]),
    async run(c, [id, input]: [string, RelayInput?]) {
      const relayId = id === '' ? randomBytes(6).toString('base64url').slice(0, 8) : id // LNbits: urlsafe_short_hash()[:8]
      if (c.registry.get(relayId)) throw new RpcError(`duplicate: relay ${JSON.stringify(relayId)} exists`)
      return relayJson(await c.registry.create(relayId, patchFrom(input ?? {}, undefined, true)))
    },
  },
  updaterelay: {
    scope: 'own',
    params: p([relayIdParam.or(z.literal('')), relayInput]),
    async run(c, [id, input]: [string, RelayInput]) {
      const h = target(c, id)
      if (input.id !== undefined && input.id !== id) throw new RpcError('invalid: the relay id cannot be changed')
      return relayJson(await c.registry.update(id, patchFrom(input, h.record, id !== '')))
    },
  },
  deleterelay: {
    scope: 'global',
    params: p([relayIdParam]),
    async run(c, [id]: [string]) {
      target(c, id)
      await c.registry.remove(id)
      return true
    },
  },
  enablerelay: {
    scope: 'own',
    params: p([relayIdParam]),
    run: async (c, [id]: [string]) => relayJson(await c.registry.update(target(c, id).id, { active: true })),
  },
  disablerelay: {
    scope: 'own',
    params: p([relayIdParam]),
    run: async (c, [id]: [string]) => relayJson(await c.registry.update(target(c, id).id, { active: false })),
  },
  setaccount: {
    scope: 'own',
    params: p([relayIdParam.or(z.literal('')), accountInput]),
    async run(c, [id, input]: [string, z.infer<typeof accountInput>]) {
      target(c, id)
      const { records } = c.registry
      const old = records.account(id, input.pubkey) ?? blank(input.pubkey)
      const account: Account = {
        pubkey: input.pubkey,
        sats: input.sats ?? old.sats,
        storage: input.storage ?? old.storage,
        paidToJoin: input.paidToJoin ?? input.paid_to_join ?? old.paidToJoin,
        allowed: input.allowed ?? old.allowed,
        blocked: input.blocked ?? old.blocked,
      }
      await records.putAccount(id, account)
      return accountJson(id, account)
    },
  },
  getaccount: {
    scope: 'own',
    reads: true,
    params: p([relayIdParam.or(z.literal('')), pubkeyParam]),
    run(c, [id, pk]: [string, string]) {
      target(c, id)
      const a = c.registry.records.account(id, pk)
      return a ? accountJson(id, a) : null
    },
  },
  listaccounts: {
    scope: 'own',
    reads: true,
    params: p([relayIdParam.or(z.literal('')), pageParam]),
    run(c, [id, page]: [string, { offset?: number; limit?: number }?]) {
      target(c, id)
      return c.registry.records.accounts(id, page).items.map((a) => accountJson(id, a))
    },
  },
  deleteaccount: {
    scope: 'own',
    params: p([relayIdParam.or(z.literal('')), pubkeyParam]),
    run(c, [id, pk]: [string, string]) {
      target(c, id)
      return c.registry.records.removeAccount(id, pk)
    },
  },
}

export const MANAGEMENT_METHODS = Object.keys(METHODS)

const json = (status: string, body: unknown): HttpReply => ({ status, contentType: 'application/json', body: JSON.stringify(body) })
const refuse = (status: string, error: string): HttpReply => json(status, { result: null, error })

function allowed(call: Call, scope: Scope, params: unknown[]): boolean {
  if (call.isGlobal || scope === 'relay') return true // the caller is at least this relay's admin (checked before)
  if (scope === 'global') return false
  return params[0] === call.here.id
}

/** Answers one POST to a hosted relay's URL. */
export function createManagement(opts: ManagementOptions): (here: Hosted, post: RelayPost) => Promise<HttpReply> {
  const window = opts.authWindowSeconds ?? 60
  const seen = createSeenIds(opts.maxRememberedAuth ?? 10_000)
  return async (here, post) => {
    if (!post.contentType.toLowerCase().startsWith(RPC_CONTENT_TYPE))
      return refuse('415 Unsupported Media Type', `invalid: Content-Type must be ${RPC_CONTENT_TYPE}`)
    const now = nowSeconds()
    const auth = verifyHttpAuth({ ...post, method: 'POST', urls: here.urls() }, now, window)
    if (!auth.ok) return refuse('401 Unauthorized', `auth-required: ${auth.reason}`)
    const global = opts.admins().includes(auth.pubkey)
    const owner = hexPubkey(here.record.pubkey)
    if (!global && auth.pubkey !== owner) return refuse('403 Forbidden', 'restricted: not an admin of this relay')
    let req: { method?: unknown; params?: unknown }
    try {
      req = JSON.parse(post.body.toString('utf8'))
    } catch {
      return refuse('400 Bad Request', 'invalid: the body is not JSON')
    }
    if (typeof req?.method !== 'string') return refuse('400 Bad Request', 'invalid: expected {"method": string, "params": array}')
    const method = Object.hasOwn(METHODS, req.method) ? METHODS[req.method] : undefined
    if (!method) return json('200 OK', { result: null, error: `invalid: unknown method ${JSON.stringify(req.method.slice(0, 64))}` })
    const parsed = method.params.safeParse(req.params ?? [])
    if (!parsed.success) return json('200 OK', { result: null, error: `invalid: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}` })
    const call: Call = { registry: opts.registry, here, caller: auth.pubkey, isGlobal: global }
    if (!allowed(call, method.scope, parsed.data)) return refuse('403 Forbidden', `restricted: ${req.method} needs a global admin`)
    // remembered only now: strangers cannot fill the memory, and reads may be repeated
    if (!method.reads && !seen.add(auth.id, auth.until, now))
      return refuse('401 Unauthorized', 'auth-required: this authorization was already used: sign a new one')
    try {
      const result = await method.run(call, parsed.data as never)
      opts.onChange?.(req.method, here.id, auth.pubkey)
      return json('200 OK', { result })
    } catch (err) {
      const message =
        err instanceof RpcError || /^(invalid|duplicate|restricted|blocked):/.test((err as Error).message) ? (err as Error).message : 'error: the change failed'
      return json('200 OK', { result: null, error: message })
    }
  }
}
