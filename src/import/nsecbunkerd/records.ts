// nsecbunkerd's rows turned into plain records, every reference checked. A row that cannot be
// imported as it is becomes a problem (which stops the whole import); a row that upstream itself
// ignores (soft-deleted, orphaned by ON DELETE SET NULL, a condition that never matched) is
// skipped and listed, so the summary shows everything that was left behind and why.
import type { BunkerRows, Row } from './db.ts'
import { isHex64, toBool, toInt, toKind, toMs } from './values.ts'

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

/**
 * Converts and cross-checks the rows. `keyNames`: the keys in the config; names of keys the Key
 * table marks deleted are returned in `deletedKeys` and everything tied to them is skipped.
 */
export function buildRecords(rows: BunkerRows, keyNames: Set<string>, problems: string[]): Records & { deletedKeys: Set<string> } {
  const skipped: Skipped[] = []
  const { keyPubkeys, deletedKeys } = keyTable(rows.Key, problems)
  const usable = (table: string, id: unknown, keyName: string): boolean => {
    if (deletedKeys.has(keyName)) skipped.push({ table, rowId: id as number, reason: `key ${JSON.stringify(keyName)} was deleted` })
    else if (!keyNames.has(keyName)) problems.push(`${table} row ${id}: key ${JSON.stringify(keyName)} is not in the configuration (no key material to import)`)
    else return true
    return false
  }

  const policies = new Map<number, ImportedPolicy>()
  const deletedPolicies = new Set<number>()
  for (const row of rows.Policy) {
    const r = reader('Policy', row, problems)
    const id = r.id()
    if (id === undefined) continue
    if (r.get('deletedAt', toMs) !== null) {
      deletedPolicies.add(id)
      skipped.push({ table: 'Policy', rowId: id, reason: 'deleted upstream' })
      continue
    }
    const p = {
      sourceId: id,
      name: r.get('name', text),
      description: r.get('description', textOrNull),
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      expiresAt: r.get('expiresAt', toMs),
      rules: [],
    }
    if (r.ok) policies.set(id, p as ImportedPolicy)
  }
  for (const row of rows.PolicyRule) {
    const r = reader('PolicyRule', row, problems)
    const policyId = r.get('policyId', toInt)
    if (policyId === null) {
      skipped.push({ table: 'PolicyRule', rowId: row.id as number, reason: 'belongs to no policy' })
      continue
    }
    if (policyId !== undefined && deletedPolicies.has(policyId)) continue
    const rule = {
      method: r.get('method', text),
      kind: r.get('kind', toKind),
      maxUsage: r.get('maxUsageCount', nonNegative),
      used: r.get('currentUsageCount', nonNegative) ?? 0,
    }
    const policy = policyId === undefined ? undefined : policies.get(policyId)
    if (policyId !== undefined && !policy && !rows.Policy.some((p) => toInt(p.id) === policyId)) r.problem('policyId', `names no Policy row (${policyId})`)
    if (r.ok && policy) policy.rules.push(rule as ImportedRule)
  }

  const users = new Map<number, ImportedUser>()
  const skippedUsers = new Set<number>()
  for (const row of rows.KeyUser) {
    const r = reader('KeyUser', row, problems)
    const id = r.id()
    const keyName = r.get('keyName', text)
    if (id === undefined || keyName === undefined) continue
    if (!usable('KeyUser', id, keyName)) {
      skippedUsers.add(id)
      continue
    }
    const u = {
      sourceId: id,
      keyName,
      pubkey: r.get('userPubkey', (v) => (isHex64(v) ? v : undefined), '64 lowercase hex characters'),
      description: r.get('description', textOrNull),
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      lastUsedAt: r.get('lastUsedAt', toMs),
      revokedAt: r.get('revokedAt', toMs),
    }
    if (r.ok) users.set(id, u as ImportedUser)
  }
  const userRef = (r: Reader, col: string, userId: number | null | undefined): boolean => {
    if (userId === null || userId === undefined || users.has(userId) || skippedUsers.has(userId)) return true
    if (!rows.KeyUser.some((u) => toInt(u.id) === userId)) r.problem(col, `names no KeyUser row (${userId})`)
    return false
  }

  const permissions: ImportedPermission[] = []
  for (const row of rows.SigningCondition) {
    const r = reader('SigningCondition', row, problems)
    const id = r.id()
    const userId = r.get('keyUserId', toInt)
    if (id === undefined || userId === undefined) continue
    if (userId === null) {
      skipped.push({ table: 'SigningCondition', rowId: id, reason: 'belongs to no key user' })
      continue
    }
    if (!userRef(r, 'keyUserId', userId) || skippedUsers.has(userId)) continue
    const allowed = r.get('allowed', toBool)
    const method = r.get('method', textOrNull)
    const kind = r.get('kind', toKind)
    if (!r.ok) continue
    // Upstream answers "ask the admin" for these: importing them would change nothing.
    if (allowed === null) skipped.push({ table: 'SigningCondition', rowId: id, reason: 'neither allows nor denies' })
    else if (method === null && allowed) skipped.push({ table: 'SigningCondition', rowId: id, reason: 'allows no method' })
    // rejectAllRequestsFromKey wrote denials without a method, meaning "everything"
    else permissions.push({ sourceId: id, userSourceId: userId, method: method ?? '*', kind, allowed: allowed! })
  }

  const tokens: ImportedToken[] = []
  for (const row of rows.Token) {
    const r = reader('Token', row, problems)
    const id = r.id()
    const keyName = r.get('keyName', text)
    if (id === undefined || keyName === undefined) continue
    if (r.get('deletedAt', toMs) !== null) {
      skipped.push({ table: 'Token', rowId: id, reason: 'deleted upstream' })
      continue
    }
    if (!usable('Token', id, keyName)) continue
    const policyId = r.get('policyId', toInt)
    if (policyId === null || (policyId !== undefined && deletedPolicies.has(policyId))) {
      skipped.push({
        table: 'Token',
        rowId: id,
        reason: policyId === null ? 'has no policy (upstream refuses to redeem it)' : `its policy ${policyId} was deleted`,
      })
      continue
    }
    if (policyId !== undefined && !policies.has(policyId) && !rows.Policy.some((p) => toInt(p.id) === policyId))
      r.problem('policyId', `names no Policy row (${policyId})`)
    const userId = r.get('keyUserId', toInt)
    if (userRef(r, 'keyUserId', userId) && userId != null && users.has(userId) && users.get(userId)!.keyName !== keyName) {
      r.problem('keyUserId', `names a user of key ${JSON.stringify(users.get(userId)!.keyName)}, not of ${JSON.stringify(keyName)}`)
    }
    const t = {
      sourceId: id,
      keyName,
      clientName: r.get('clientName', text),
      secret: r.get('token', (v) => (typeof v === 'string' && SECRET.test(v) ? v : undefined), '16-128 characters of [A-Za-z0-9_-]', true),
      createdBy: r.get('createdBy', text),
      policySourceId: policyId,
      createdAt: r.get('createdAt', required(toMs)),
      updatedAt: r.get('updatedAt', required(toMs)),
      expiresAt: r.get('expiresAt', toMs),
      redeemedAt: r.get('redeemedAt', toMs),
      redeemedByUserSourceId: userId != null && skippedUsers.has(userId) ? null : userId,
    }
    if (r.ok) tokens.push(t as ImportedToken)
  }
  return { policies: [...policies.values()], users: [...users.values()], permissions, tokens, keyPubkeys, deletedKeys, skipped }
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
      const pubkey = r.get('pubkey', (v) => (isHex64(v) ? v : undefined), '64 lowercase hex characters')
      if (pubkey) keyPubkeys.set(name, { rowId: id, pubkey })
    }
  }
  return { keyPubkeys, deletedKeys }
}

type Conv<T> = (v: unknown) => T | undefined
const text: Conv<string> = (v) => (typeof v === 'string' ? v : undefined)
const textOrNull: Conv<string | null> = (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : undefined)
const nonNegative: Conv<number | null> = (v) => {
  const n = toInt(v)
  return n === undefined || (n !== null && n < 0) ? undefined : n
}
const required =
  <T>(conv: Conv<T | null>): Conv<T> =>
  (v) =>
    conv(v) ?? undefined

interface Reader {
  /** false once any column of the row was a problem */
  readonly ok: boolean
  id(): number | undefined
  get<T>(col: string, conv: Conv<T>, expected?: string, secret?: boolean): T
  problem(col: string, message: string): void
}

/** Reads one row's columns, turning every unreadable value into a problem that names the row. */
function reader(table: string, row: Row, problems: string[]): Reader {
  const where = `${table} row ${JSON.stringify(row.id ?? null)}`
  const r: Reader & { ok: boolean } = {
    ok: true,
    id: () => {
      const id = toInt(row.id)
      if (id === null || id === undefined) r.problem('id', 'not an integer')
      return id ?? undefined
    },
    get<T>(col: string, conv: Conv<T>, expected?: string, secret = false): T {
      const v = conv(row[col])
      if (v === undefined)
        r.problem(col, `unreadable value${expected ? ` (expected ${expected})` : ''}${secret ? '' : `: ${JSON.stringify(row[col])?.slice(0, 80)}`}`)
      return v as T
    },
    problem(col, message) {
      r.ok = false
      problems.push(`${where}: ${col}: ${message}`)
    },
  }
  return r
}
