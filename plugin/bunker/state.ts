// Bunker state: keys (encrypted), policies, tokens, users (key x client) and their permissions, and
// an audit log. Held in memory for the hot path, written through to one named LMDB database of the
// relay's environment. Multi-record changes (token redemption, key deletion) are one transaction.
import type { Database, RootDatabase } from 'lmdb'
import type { VaultParams } from './vault.ts'

export interface KeyRecord {
  name: string
  pubkey: string
  /** NIP-49 under the key's passphrase. */
  ncryptsec: string
  /** Wrapped under the vault key, when a vault secret is configured. */
  vaultWrapped?: string
  createdAt: number
}

export interface Rule {
  method: string
  /** null: any kind */
  kind: number | null
  maxUsage: number | null
}

export interface Policy {
  id: number
  name: string
  description: string | null
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  rules: Rule[]
}

export interface Token {
  id: number
  keyName: string
  clientName: string
  secret: string
  policyId: number
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  redeemedAt: number | null
  /** user id of the redeeming (key, client) pair */
  redeemedBy: number | null
}

export interface KeyUser {
  id: number
  keyName: string
  pubkey: string
  description: string | null
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

export interface Permission {
  id: number
  userId: number
  method: string
  /** null: any kind */
  kind: number | null
  allowed: boolean
  maxUsage: number | null
  used: number
  expiresAt: number | null
  /** The policy rule it came from, when it came from a redeemed token. */
  source?: { policyId: number; rule: number }
}

/** A NIP-05 name for a key, served at /.well-known/nostr.json (accounts). */
export interface NameRecord {
  /** `local@domain`, lowercase */
  id: string
  keyName: string
  createdAt: number
  /** The client that made the key with create_account; absent for a name an admin set. */
  creator?: string
}

type Kind = 'key' | 'policy' | 'token' | 'user' | 'perm' | 'name'
type DbKey = [string, string | number] | [string, number, number]

export interface BunkerState {
  keys: Map<string, KeyRecord>
  policies: Map<number, Policy>
  tokens: Map<number, Token>
  users: Map<number, KeyUser>
  perms: Map<number, Permission>
  names: Map<string, NameRecord>
  vault?: VaultParams
  nextId(kind: 'policy' | 'token' | 'user' | 'perm'): number
  userFor(keyName: string, client: string): KeyUser | undefined
  tokenBySecret(secret: string): Token | undefined
  permsOf(userId: number): Permission[]
  namesOf(keyName: string): NameRecord[]
  /** Stages writes and deletions; `commit()` makes them durable in one transaction. */
  put(kind: 'key', v: KeyRecord): void
  put(kind: 'policy', v: Policy): void
  put(kind: 'token', v: Token): void
  put(kind: 'user', v: KeyUser): void
  put(kind: 'perm', v: Permission): void
  put(kind: 'name', v: NameRecord): void
  remove(kind: Kind, id: string | number): void
  setVault(params: VaultParams): void
  audit(entry: Record<string, unknown>): void
  commit(): Promise<void>
}

const idOf = (kind: Kind, v: { id?: number | string; name?: string }): string | number => (kind === 'key' ? v.name! : v.id!)

export function openBunkerState(env: RootDatabase): BunkerState {
  const db: Database<unknown, DbKey> = env.openDB({ name: 'bunker' })
  const maps = { key: new Map(), policy: new Map(), token: new Map(), user: new Map(), perm: new Map(), name: new Map() } as Record<
    Kind,
    Map<string | number, unknown>
  >
  const ids = { policy: 0, token: 0, user: 0, perm: 0 }
  let vault: VaultParams | undefined
  let auditSeq = 0
  let staged: Array<() => void> = []

  // Walk each record kind's own range: the audit log, which only grows, is never read at boot.
  for (const kind of ['vault', ...Object.keys(maps)]) {
    for (const { key, value } of db.getRange({ start: [kind], end: [`${kind}\u0000`] })) {
      const id = key[1]
      if (kind === 'vault') vault = value as VaultParams
      else maps[kind as Kind].set(id, value)
      if (kind in ids && (id as number) > ids[kind as keyof typeof ids]) ids[kind as keyof typeof ids] = id as number
    }
  }
  const users = maps.user as Map<number, KeyUser>
  const tokens = maps.token as Map<number, Token>
  const perms = maps.perm as Map<number, Permission>
  // Secondary indexes, rebuilt at boot and kept in step by put/remove.
  const userIndex = new Map<string, number>()
  const tokenIndex = new Map<string, number>()
  const permIndex = new Map<number, Set<number>>()
  const names = maps.name as Map<string, NameRecord>
  const nameIndex = new Map<string, Set<string>>()
  const indexName = (n: NameRecord) => {
    let s = nameIndex.get(n.keyName)
    if (!s) nameIndex.set(n.keyName, (s = new Set()))
    s.add(n.id)
  }
  const indexUser = (u: KeyUser) => userIndex.set(`${u.keyName}\n${u.pubkey}`, u.id)
  const indexPerm = (p: Permission) => {
    let s = permIndex.get(p.userId)
    if (!s) permIndex.set(p.userId, (s = new Set()))
    s.add(p.id)
  }
  for (const u of users.values()) indexUser(u)
  for (const t of tokens.values()) tokenIndex.set(t.secret, t.id)
  for (const p of perms.values()) indexPerm(p)
  for (const n of names.values()) indexName(n)

  function unindex(kind: Kind, v: unknown): void {
    if (kind === 'user') userIndex.delete(`${(v as KeyUser).keyName}\n${(v as KeyUser).pubkey}`)
    if (kind === 'token') tokenIndex.delete((v as Token).secret)
    if (kind === 'perm') permIndex.get((v as Permission).userId)?.delete((v as Permission).id)
    if (kind === 'name') nameIndex.get((v as NameRecord).keyName)?.delete((v as NameRecord).id)
  }

  const state: BunkerState = {
    keys: maps.key as Map<string, KeyRecord>,
    policies: maps.policy as Map<number, Policy>,
    tokens,
    users,
    perms,
    names,
    get vault() {
      return vault
    },
    nextId: (kind) => ++ids[kind],
    userFor: (keyName, client) => {
      const id = userIndex.get(`${keyName}\n${client}`)
      return id === undefined ? undefined : users.get(id)
    },
    tokenBySecret: (secret) => {
      const id = tokenIndex.get(secret)
      return id === undefined ? undefined : tokens.get(id)
    },
    permsOf: (userId) => [...(permIndex.get(userId) ?? [])].map((id) => perms.get(id)!),
    namesOf: (keyName) => [...(nameIndex.get(keyName) ?? [])].map((id) => names.get(id)!),
    put(kind: Kind, v: unknown) {
      const id = idOf(kind, v as { id?: number | string; name?: string })
      maps[kind].set(id, v)
      if (kind === 'user') indexUser(v as KeyUser)
      if (kind === 'token') tokenIndex.set((v as Token).secret, (v as Token).id)
      if (kind === 'perm') indexPerm(v as Permission)
      if (kind === 'name') indexName(v as NameRecord)
      // records are replaced, never mutated below their top level, so a shallow copy is a snapshot
      const snapshot = { ...(v as object) }
      staged.push(() => db.putSync([kind, id], snapshot))
    },
    remove(kind, id) {
      const v = maps[kind].get(id)
      if (v !== undefined) unindex(kind, v)
      maps[kind].delete(id)
      staged.push(() => db.removeSync([kind, id]))
    },
    setVault(params) {
      vault = params
      staged.push(() => db.putSync(['vault', 'params'], params))
    },
    audit(entry) {
      const key: DbKey = ['audit', Date.now(), auditSeq++]
      staged.push(() => db.putSync(key, entry))
    },
    commit() {
      const batch = staged
      staged = []
      if (batch.length === 0) return Promise.resolve()
      return env.transaction(() => {
        for (const write of batch) write()
      })
    },
  }
  return state
}
