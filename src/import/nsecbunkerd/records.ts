// nsecbunkerd's rows turned into plain records, every reference checked. A row that cannot be
// imported as it is becomes a problem (which stops the whole import); a row that upstream itself
// ignores (soft-deleted, orphaned by ON DELETE SET NULL, a condition that never matched) is
// skipped and listed, so the summary shows everything that was left behind and why.
import type { BunkerRows, Row } from './db.ts'
import { type Reader, reader, required, text, textOrNull } from './row-reader.ts'
import { isHex64, nonNegative, toBool, toInt, toKind, toMs } from './values.ts'

export interface ImportedRule {
  method: string
  /** null: any kind */
  kind: number | null
  maxUsage: number | null
  used: number
}

export interface ImportedPolicy {
  sourceId: number
  name: string
  description: string | null
  /** Epoch milliseconds, as every time below. */
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  rules: ImportedRule[]
}

export interface ImportedUser {
  sourceId: number
  keyName: string
  /** The client's pubkey (hex). */
  pubkey: string
  description: string | null
  createdAt: number
  updatedAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

export interface ImportedPermission {
  sourceId: number
  userSourceId: number
  /** A NIP-46 method name, or "*" for "every method" (only ever denied upstream). */
  method: string
  /** null: any kind */
  kind: number | null
  allowed: boolean
}

export interface ImportedToken {
  sourceId: number
  keyName: string
  clientName: string
  /** The connect secret a client presents (the 64 hex after `#` in get_key_tokens). */
  secret: string
  /** The admin pubkey that created it. */
  createdBy: string
  policySourceId: number
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  redeemedAt: number | null
  /** The key user created by its redemption. */
  redeemedByUserSourceId: number | null
}

export interface Skipped {
  table: string
  rowId: number | string
  reason: string
}

export interface Records {
  policies: ImportedPolicy[]
  users: ImportedUser[]
  permissions: ImportedPermission[]
  tokens: ImportedToken[]
  /** keyName -> pubkey from the Key table, to check against the decrypted keys. */
  keyPubkeys: Map<string, { rowId: number; pubkey: string }>
  skipped: Skipped[]
}

/** Client secrets as bunker:// URIs carry them. */
const SECRET = /^[A-Za-z0-9_-]{16,128}$/

/** What the table readers share: the rows, what was found so far, and where problems go. */
interface Ctx {
  rows: BunkerRows
  keyNames: Set<string>
  problems: string[]
  skipped: Skipped[]
  deletedKeys: Set<string>
  policies: Map<number, ImportedPolicy>
  deletedPolicies: Set<number>
  users: Map<number, ImportedUser>
  skippedUsers: Set<number>
}

/**
 * Converts and cross-checks the rows. `keyNames`: the keys in the config; names of keys the Key
 * table marks deleted are returned in `deletedKeys` and everything tied to them is skipped.
 */
export function buildRecords(rows: BunkerRows, keyNames: Set<string>, problems: string[]): Records & { deletedKeys: Set<string> } {
  const { keyPubkeys, deletedKeys } = keyTable(rows.Key, problems)
  const ctx: Ctx = {
    rows,
    keyNames,
    problems,
    skipped: [],
    deletedKeys,
    policies: new Map(),
    deletedPolicies: new Set(),
    users: new Map(),
    skippedUsers: new Set(),
  }
  readPolicies(ctx)
  readRules(ctx)
  readUsers(ctx)
  const permissions = readPermissions(ctx)
  const tokens = readTokens(ctx)
  return { policies: [...ctx.policies.values()], users: [...ctx.users.values()], permissions, tokens, keyPubkeys, deletedKeys, skipped: ctx.skipped }
}

function keyTable(rows: Row[], problems: string[]) {
  const keyPubkeys = new Map<string, { rowId: number; pubkey: string }>()
  const deletedKeys = new Set<string>()
  for (const row of rows) {
    const r = reader('Key', row, problems)
    const id = r.id()
    const name = r.get('keyName', text)
    if (id === undefined || name === undefined) continue
    if (r.get('deletedAt', toMs) !== null) deletedKeys.add(name)
    else {
      const pubkey = r.get('pubkey', hex64, '64 lowercase hex characters')
      if (pubkey) keyPubkeys.set(name, { rowId: id, pubkey })
    }
  }
  return { keyPubkeys, deletedKeys }
}

const hex64 = (v: unknown) => (isHex64(v) ? v : undefined)

/** Whether rows of `keyName` are imported; a deleted key's are skipped, an unknown key's a problem. */
function keyUsable(ctx: Ctx, table: string, id: number, keyName: string): boolean {
  if (ctx.deletedKeys.has(keyName)) ctx.skipped.push({ table, rowId: id, reason: `key ${JSON.stringify(keyName)} was deleted` })
  else if (!ctx.keyNames.has(keyName))
    ctx.problems.push(`${table} row ${id}: key ${JSON.stringify(keyName)} is not in the configuration (no key material to import)`)
  else return true
  return false
}

/** A policy id that names no row at all is a problem (one with a problem of its own already is). */
function checkPolicyRef(ctx: Ctx, r: Reader, policyId: number): void {
  if (!ctx.policies.has(policyId) && !ctx.rows.Policy.some((p) => toInt(p.id) === policyId)) r.problem('policyId', `names no Policy row (${policyId})`)
}

function readPolicies(ctx: Ctx): void {
  for (const row of ctx.rows.Policy) {
    const r = reader('Policy', row, ctx.problems)
    const id = r.id()
    if (id === undefined) continue
    if (r.get('deletedAt', toMs) !== null) {
      ctx.deletedPolicies.add(id)
      ctx.skipped.push({ table: 'Policy', rowId: id, reason: 'deleted upstream' })
      continue
    }
    const p: ImportedPolicy = {
      sourceId: id,
      name: r.get('name', text),
      description: r.get('description', textOrNull),
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      expiresAt: r.get('expiresAt', toMs),
      rules: [],
    }
    if (r.ok) ctx.policies.set(id, p)
  }
}

function readRules(ctx: Ctx): void {
  for (const row of ctx.rows.PolicyRule) {
    const r = reader('PolicyRule', row, ctx.problems)
    const id = r.id()
    const policyId = r.get('policyId', toInt)
    if (id === undefined || policyId === undefined || ctx.deletedPolicies.has(policyId!)) continue
    if (policyId === null) {
      ctx.skipped.push({ table: 'PolicyRule', rowId: id, reason: 'belongs to no policy' })
      continue
    }
    const rule: ImportedRule = {
      method: r.get('method', text),
      kind: r.get('kind', toKind),
      maxUsage: r.get('maxUsageCount', nonNegative),
      used: r.get('currentUsageCount', nonNegative) ?? 0,
    }
    checkPolicyRef(ctx, r, policyId)
    if (r.ok) ctx.policies.get(policyId)?.rules.push(rule)
  }
}

function readUsers(ctx: Ctx): void {
  for (const row of ctx.rows.KeyUser) {
    const r = reader('KeyUser', row, ctx.problems)
    const id = r.id()
    const keyName = r.get('keyName', text)
    if (id === undefined || keyName === undefined) continue
    if (!keyUsable(ctx, 'KeyUser', id, keyName)) {
      ctx.skippedUsers.add(id)
      continue
    }
    const u: ImportedUser = {
      sourceId: id,
      keyName,
      pubkey: r.get('userPubkey', hex64, '64 lowercase hex characters'),
      description: r.get('description', textOrNull),
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      lastUsedAt: r.get('lastUsedAt', toMs),
      revokedAt: r.get('revokedAt', toMs),
    }
    if (r.ok) ctx.users.set(id, u)
  }
}

/** Whether a user reference resolves (null does); one naming no row at all is a problem. */
function userResolves(ctx: Ctx, r: Reader, userId: number | null): boolean {
  if (userId === null || ctx.users.has(userId) || ctx.skippedUsers.has(userId)) return true
  if (!ctx.rows.KeyUser.some((u) => toInt(u.id) === userId)) r.problem('keyUserId', `names no KeyUser row (${userId})`)
  return false
}

function readPermissions(ctx: Ctx): ImportedPermission[] {
  const permissions: ImportedPermission[] = []
  for (const row of ctx.rows.SigningCondition) {
    const r = reader('SigningCondition', row, ctx.problems)
    const id = r.id()
    const userId = r.get('keyUserId', toInt)
    if (id === undefined || userId === undefined || !userResolves(ctx, r, userId) || (userId !== null && ctx.skippedUsers.has(userId))) continue
    if (userId === null) {
      ctx.skipped.push({ table: 'SigningCondition', rowId: id, reason: 'belongs to no key user' })
      continue
    }
    const allowed = r.get('allowed', toBool)
    const method = r.get('method', textOrNull)
    const kind = r.get('kind', toKind)
    if (!r.ok) continue
    // Upstream answers "ask the admin" for these: importing them would change nothing.
    if (allowed === null) ctx.skipped.push({ table: 'SigningCondition', rowId: id, reason: 'neither allows nor denies' })
    else if (method === null && allowed) ctx.skipped.push({ table: 'SigningCondition', rowId: id, reason: 'allows no method' })
    // rejectAllRequestsFromKey wrote denials without a method, meaning "everything"
    else permissions.push({ sourceId: id, userSourceId: userId, method: method ?? '*', kind, allowed })
  }
  return permissions
}

function readTokens(ctx: Ctx): ImportedToken[] {
  const tokens: ImportedToken[] = []
  for (const row of ctx.rows.Token) {
    const r = reader('Token', row, ctx.problems)
    const id = r.id()
    const keyName = r.get('keyName', text)
    if (id === undefined || keyName === undefined) continue
    if (r.get('deletedAt', toMs) !== null) {
      ctx.skipped.push({ table: 'Token', rowId: id, reason: 'deleted upstream' })
      continue
    }
    if (!keyUsable(ctx, 'Token', id, keyName)) continue
    const policyId = r.get('policyId', toInt)
    if (policyId === null || ctx.deletedPolicies.has(policyId!)) {
      const reason = policyId === null ? 'has no policy (upstream refuses to redeem it)' : `its policy ${policyId} was deleted`
      ctx.skipped.push({ table: 'Token', rowId: id, reason })
      continue
    }
    if (policyId !== undefined) checkPolicyRef(ctx, r, policyId)
    const userId = r.get('keyUserId', toInt)
    const user = userId == null ? undefined : ctx.users.get(userId)
    if (userId !== undefined && userResolves(ctx, r, userId) && user && user.keyName !== keyName) {
      r.problem('keyUserId', `names a user of key ${JSON.stringify(user.keyName)}, not of ${JSON.stringify(keyName)}`)
    }
    const t: ImportedToken = {
      sourceId: id,
      keyName,
      clientName: r.get('clientName', text),
      secret: r.get('token', (v) => (typeof v === 'string' && SECRET.test(v) ? v : undefined), '16-128 characters of [A-Za-z0-9_-]', true),
      createdBy: r.get('createdBy', text),
      policySourceId: policyId!,
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      expiresAt: r.get('expiresAt', toMs),
      redeemedAt: r.get('redeemedAt', toMs),
      // a user skipped with its deleted key cannot be the redeemer of a token of a live key
      redeemedByUserSourceId: user ? userId! : null,
    }
    if (r.ok) tokens.push(t)
  }
  return tokens
}
