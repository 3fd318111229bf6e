// Who may do what with a key. A (key, client) pair is a user; a user holds permissions from a
// redeemed token's policy, an admin's acl answer, or grant_permission. Enforced on every request.
import type { BunkerState, KeyUser, Permission, Policy } from './state.ts'

/** Methods any connected (not revoked) client may call. */
const SESSION_METHODS = new Set(['connect', 'ping', 'get_public_key', 'logout', 'switch_relays'])

export type Decision = { decision: 'allow'; perm?: Permission } | { decision: 'deny'; reason: string } | { decision: 'ask' }

const usable = (p: Permission, now: number): boolean => p.allowed && (p.expiresAt === null || p.expiresAt > now) && (p.maxUsage === null || p.used < p.maxUsage)

export function decide(state: BunkerState, user: KeyUser | undefined, method: string, kind: number | undefined, now: number): Decision {
  if (!user) return { decision: 'ask' }
  if (user.revokedAt !== null) return { decision: 'deny', reason: 'this client was revoked' }
  const perms = state.permsOf(user.id)
  // nsecbunkerd's "reject everything from this client" (a denial of method "*"), as imported from it
  if (perms.some((p) => p.method === '*' && !p.allowed)) return { decision: 'deny', reason: 'every method is denied for this client' }
  if (SESSION_METHODS.has(method)) return { decision: 'allow' }
  const matching = perms.filter((p) => p.method === method && (p.kind === null || p.kind === kind))
  if (matching.length === 0) return { decision: 'ask' }
  if (matching.some((p) => !p.allowed)) return { decision: 'deny', reason: `${method} is not allowed for this client` }
  const perm = matching.find((p) => usable(p, now))
  return perm ? { decision: 'allow', perm } : { decision: 'deny', reason: `permission for ${method} is used up or expired` }
}

/** Counts one use of a permission (persisted with the next commit). */
export function consume(state: BunkerState, perm: Permission): void {
  perm.used++
  state.put('perm', perm)
}

export function addUser(state: BunkerState, keyName: string, client: string, description: string | null, now: number): KeyUser {
  const existing = state.userFor(keyName, client)
  if (existing) {
    const revived = { ...existing, revokedAt: null, description: description ?? existing.description }
    state.put('user', revived)
    return revived
  }
  const user: KeyUser = { id: state.nextId('user'), keyName, pubkey: client, description, createdAt: now, lastUsedAt: now, revokedAt: null }
  state.put('user', user)
  return user
}

export function grant(
  state: BunkerState,
  userId: number,
  p: { method: string; kind: number | null; allowed?: boolean; maxUsage?: number | null; expiresAt?: number | null; source?: Permission['source'] },
): Permission {
  const perm: Permission = {
    id: state.nextId('perm'),
    userId,
    method: p.method,
    kind: p.kind,
    allowed: p.allowed ?? true,
    maxUsage: p.maxUsage ?? null,
    used: 0,
    expiresAt: p.expiresAt ?? null,
    ...(p.source ? { source: p.source } : {}),
  }
  state.put('perm', perm)
  return perm
}

/** Grants a policy's rules to a user, each remembering the rule it came from (for get_policies' usage). */
export function grantPolicy(state: BunkerState, userId: number, policy: Policy): void {
  for (const [index, rule] of policy.rules.entries())
    grant(state, userId, {
      method: rule.method,
      kind: rule.kind,
      maxUsage: rule.maxUsage,
      expiresAt: policy.expiresAt,
      source: { policyId: policy.id, rule: index },
    })
}

/** Drops a user's permissions (revocation is kept on the user record). */
export function dropPermissions(state: BunkerState, userId: number): void {
  for (const p of state.permsOf(userId)) state.remove('perm', p.id)
}
