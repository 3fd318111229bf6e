// Admin methods about access: policies, tokens, key users and their permissions. Result shapes
// follow nsecbunkerd's, which LNbits and the nsecbunker admin UI parse.
import { randomBytes } from 'node:crypto'
import { nip19 } from 'nostr-tools'
import { z } from 'zod'
import { dropPermissions, grant } from './acl.ts'
import { fail, ok, type AdminMethod } from './admin-keys.ts'
import type { BunkerState, Permission, Policy, Token } from './state.ts'
import { tokenHash } from './token-seal.ts'

/**
 * The latest expiry accepted (the last moment of year 9999): every date stays printable as ISO
 * 8601, which a far-future one (unix seconds 1e15, 1e308 hours) is not.
 */
export const MAX_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
const printable = (ms: number): boolean => Number.isFinite(ms) && ms >= 0 && ms <= MAX_EXPIRY_MS
// A record stored before expiries were bounded shows as null rather than failing the whole list.
const iso = (ms: number | null): string | null => (ms === null || !printable(ms) ? null : new Date(ms).toISOString())

/** ISO date text, or unix seconds; up to the end of year 9999. */
const when = z
  .union([z.string().min(1).max(64), z.number()])
  .nullish()
  .transform((v, ctx) => {
    if (v === null || v === undefined) return null
    const ms = typeof v === 'number' ? v * 1000 : Date.parse(v)
    if (!printable(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expires_at must be a date between 1970 and the end of 9999' })
      return z.NEVER
    }
    return ms
  })

const kindField = z
  .union([
    z.number().int().min(0).max(65535),
    z
      .string()
      .regex(/^\d{1,5}$/)
      .transform(Number)
      .pipe(z.number().max(65535)),
    z.literal('all').transform(() => null),
  ])
  .nullish()
  .transform((v) => v ?? null)

const policySchema = z.object({
  name: z.string().min(1).max(128),
  description: z.string().nullish(),
  expires_at: when,
  rules: z.array(z.object({ method: z.string().min(1).max(64), kind: kindField, use_count: z.number().int().positive().nullish() })).default([]),
})

/** A record id: plain decimal digits only ("0x1", "1e0", " 1" are not ids). */
const idParam = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^[1-9]\d{0,14}$/.test(v)) return undefined
  return Number(v)
}

/** durationInHours: a positive decimal number, or nothing (no expiry). */
function expiryFrom(hours: string | undefined, now: number): number | null | string {
  if (hours === undefined || hours === '') return null
  const h = /^\d{1,10}(\.\d{1,10})?$/.test(hours) ? Number(hours) : Number.NaN
  if (!(h > 0)) return 'durationInHours must be a positive number'
  const ms = now + h * 3_600_000
  return printable(ms) ? ms : 'durationInHours reaches past the end of year 9999'
}

/** `<npub>#<secret>` while the token is unredeemed (its secret is kept sealed), `<npub>` after. */
function tokenView(state: BunkerState, t: Token, now: number) {
  const key = state.keys.get(t.keyName)
  const secret = state.seal.open(t)
  const npub = key ? nip19.npubEncode(key.pubkey) : ''
  return {
    id: t.id,
    key_name: t.keyName,
    client_name: t.clientName,
    token: secret === undefined ? npub : `${npub}#${secret}`,
    policy_id: t.policyId,
    policy_name: state.policies.get(t.policyId)?.name ?? null,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
    expires_at: iso(t.expiresAt),
    redeemed_at: iso(t.redeemedAt),
    redeemed_by: t.redeemedBy === null ? null : (state.users.get(t.redeemedBy)?.description ?? null),
    time_until_expiration: t.expiresAt === null || !printable(t.expiresAt) ? null : (t.expiresAt - now) / 1000,
  }
}

function policyUsage(state: BunkerState, policyId: number, rule: number): number {
  let used = 0
  for (const p of state.perms.values()) if (p.source?.policyId === policyId && p.source.rule === rule) used += p.used
  return used
}

const permView = (p: Permission) => ({
  id: p.id,
  method: p.method,
  kind: p.kind,
  allowed: p.allowed,
  max_usage_count: p.maxUsage,
  current_usage_count: p.used,
  expires_at: iso(p.expiresAt),
})

export function accessAdminMethods(state: BunkerState): Record<string, AdminMethod> {
  const commitOk = async () => {
    await state.commit()
    return ok(['ok'])
  }

  return {
    create_new_policy([json]) {
      let raw: unknown
      try {
        raw = JSON.parse(json ?? '')
      } catch {
        return fail('create_new_policy needs a JSON policy')
      }
      const r = policySchema.safeParse(raw)
      if (!r.success) return fail(`invalid policy: ${z.prettifyError(r.error)}`)
      const now = Date.now()
      const policy: Policy = {
        id: state.nextId('policy'),
        name: r.data.name,
        description: r.data.description ?? null,
        createdAt: now,
        updatedAt: now,
        expiresAt: r.data.expires_at,
        rules: r.data.rules.map((rule) => ({ method: rule.method, kind: rule.kind, maxUsage: rule.use_count ?? null })),
      }
      state.put('policy', policy)
      return commitOk()
    },

    get_policies() {
      return ok(
        [...state.policies.values()].map((p) => ({
          id: p.id,
          name: p.name,
          description: p.description,
          created_at: iso(p.createdAt),
          updated_at: iso(p.updatedAt),
          expires_at: iso(p.expiresAt),
          rules: p.rules.map((rule, i) => ({
            method: rule.method,
            kind: rule.kind,
            max_usage_count: rule.maxUsage,
            current_usage_count: policyUsage(state, p.id, i),
          })),
        })),
      )
    },

    delete_policy([policyId]) {
      const id = idParam(policyId)
      if (id === undefined || !state.policies.has(id)) return fail(`no policy ${policyId}`)
      state.remove('policy', id)
      return commitOk()
    },

    create_new_token([keyName, clientName, policyId, hours]) {
      if (!state.keys.has(keyName ?? '')) return fail(`no key named ${keyName}`)
      if (!clientName) return fail('create_new_token needs a client name')
      const pid = idParam(policyId)
      if (pid === undefined || !state.policies.has(pid)) return fail(`no policy ${policyId}`)
      const now = Date.now()
      const expiresAt = expiryFrom(hours, now)
      if (typeof expiresAt === 'string') return fail(expiresAt)
      const id = state.nextId('token')
      const secret = randomBytes(32).toString('hex')
      const token: Token = {
        id,
        keyName,
        clientName,
        secretHash: tokenHash(secret),
        sealedSecret: state.seal.seal(id, secret),
        policyId: pid,
        createdAt: now,
        updatedAt: now,
        expiresAt,
        redeemedAt: null,
        redeemedBy: null,
      }
      state.put('token', token)
      return commitOk()
    },

    get_key_tokens([keyName]) {
      const now = Date.now()
      return ok([...state.tokens.values()].filter((t) => t.keyName === keyName).map((t) => tokenView(state, t, now)))
    },

    // The client that redeemed the token loses its session with it: revoked, as by revoke_user, and
    // its permissions dropped, so an admin who lets it back later starts it from nothing.
    revoke_token([tokenId]) {
      const id = idParam(tokenId)
      const token = id === undefined ? undefined : state.tokens.get(id)
      if (!token) return fail(`no token ${tokenId}`)
      state.remove('token', token.id)
      const user = token.redeemedBy === null ? undefined : state.users.get(token.redeemedBy)
      if (user && user.revokedAt === null) {
        const now = Date.now()
        dropPermissions(state, user.id)
        state.put('user', { ...user, revokedAt: now })
        state.audit({ at: now, event: 'user_revoked', key: user.keyName, client: user.pubkey, token: token.id })
      }
      return commitOk()
    },

    validate_token([text]) {
      const secret = (text ?? '').includes('#') ? text.split('#')[1] : (text ?? '')
      const t = state.tokenBySecret(secret)
      if (!t) return ok({ valid: false, error: 'no such token' })
      const now = Date.now()
      const policy = state.policies.get(t.policyId)
      const problem =
        t.expiresAt !== null && t.expiresAt <= now
          ? 'token expired'
          : !policy
            ? 'policy deleted'
            : policy.expiresAt !== null && policy.expiresAt <= now
              ? 'policy expired'
              : t.redeemedAt !== null
                ? 'token already redeemed'
                : undefined
      return ok({ valid: problem === undefined, ...(problem ? { error: problem } : {}), ...tokenView(state, t, now) })
    },

    get_key_users([keyName]) {
      return ok(
        [...state.users.values()]
          .filter((u) => u.keyName === keyName)
          .map((u) => ({
            id: u.id,
            name: u.keyName,
            pubkey: u.pubkey,
            description: u.description,
            createdAt: iso(u.createdAt),
            lastUsedAt: iso(u.lastUsedAt),
            revokedAt: iso(u.revokedAt),
            signingConditions: state.permsOf(u.id).map((p) => ({ id: p.id, method: p.method, kind: p.kind, allowed: p.allowed })),
          })),
      )
    },

    rename_key_user([userPubkey, description]) {
      const users = [...state.users.values()].filter((u) => u.pubkey === userPubkey)
      if (users.length === 0) return fail(`no key user with pubkey ${userPubkey}`)
      for (const u of users) state.put('user', { ...u, description: description ?? null })
      return commitOk()
    },

    revoke_user([keyUserId]) {
      const id = idParam(keyUserId)
      const user = id === undefined ? undefined : state.users.get(id)
      if (!user) return fail(`no key user ${keyUserId}`)
      state.put('user', { ...user, revokedAt: Date.now() })
      state.audit({ at: Date.now(), event: 'user_revoked', key: user.keyName, client: user.pubkey })
      return commitOk()
    },

    get_permissions([keyUserId]) {
      const id = idParam(keyUserId)
      if (id === undefined || !state.users.has(id)) return fail(`no key user ${keyUserId}`)
      return ok(state.permsOf(id).map(permView))
    },

    grant_permission([keyUserId, method, kind]) {
      const id = idParam(keyUserId)
      if (id === undefined || !state.users.has(id)) return fail(`no key user ${keyUserId}`)
      if (!method) return fail('grant_permission needs a method')
      const k = kindField.safeParse(kind === '' ? undefined : kind)
      if (!k.success) return fail('kind must be a number or "all"')
      grant(state, id, { method, kind: k.data })
      return commitOk()
    },

    revoke_permission([permissionId]) {
      const id = idParam(permissionId)
      if (id === undefined || !state.perms.has(id)) return fail(`no permission ${permissionId}`)
      state.remove('perm', id)
      return commitOk()
    },
  }
}
