// Bunker state: keys (encrypted), policies, tokens, users (key x client) and their permissions, and
// an audit log. Held in memory for the hot path, written through to one named LMDB database of the
// relay's environment. Multi-record changes (token redemption, key deletion) are one transaction.
// A change is visible in memory as soon as it is put (callers read back what they staged), and a
// commit that fails puts every record it touched back as it is on disk: memory never holds what
// LMDB does not.
import type { Database, RootDatabase } from 'lmdb'
import { tokenHash, type TokenSeal } from './token-seal.ts'
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
  /** SHA-256 of the secret, hex: what `connect` looks a token up by. */
  secretHash: string
  /** The secret sealed under the admin key (token-seal.ts) while unredeemed; null once redeemed. */
  sealedSecret: string | null
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
type Rec = [kind: Kind | 'vault', id: string | number]

export interface BunkerState {
  keys: Map<string, KeyRecord>
  policies: Map<number, Policy>
  tokens: Map<number, Token>
  users: Map<number, KeyUser>
  perms: Map<number, Permission>
  names: Map<string, NameRecord>
  vault?: VaultParams
  /** Seals and opens token secrets (under the admin key). */
  readonly seal: TokenSeal
  nextId(kind: 'policy' | 'token' | 'user' | 'perm'): number
  userFor(keyName: string, client: string): KeyUser | undefined
  /** The token whose secret this is, looked up by its hash. */
  tokenBySecret(secret: string): Token | undefined
  permsOf(userId: number): Permission[]
  namesOf(keyName: string): NameRecord[]
  /**
   * Stages writes and deletions; `commit()` makes them durable in one transaction. They show in
   * memory at once; if the commit fails they are undone there. A redeemed token is stored without
   * its sealed secret, whoever writes it.
   */
  put(kind: 'key', v: KeyRecord): void
  put(kind: 'policy', v: Policy): void
  put(kind: 'token', v: Token): void
  put(kind: 'user', v: KeyUser): void
  put(kind: 'perm', v: Permission): void
  put(kind: 'name', v: NameRecord): void
  remove(kind: Kind, id: string | number): void
  setVault(params: VaultParams): void
  audit(entry: Record<string, unknown>): void
  /** Rejects when the transaction fails, after restoring the records it touched from LMDB. */
  commit(): Promise<void>
}

interface Batch {
  seq: number
  writes: Array<() => void>
  touched: Map<string, Rec>
}

const idOf = (kind: Kind, v: { id?: number | string; name?: string }): string | number => (kind === 'key' ? v.name! : v.id!)
const recKey = (kind: string, id: string | number): string => `${kind}\u0000${id}`
/** Tokens written before secrets were hashed carry the plaintext; sealLegacyTokens rewrites them. */
const hashOf = (t: Token): string => t.secretHash ?? tokenHash((t as Token & { secret: string }).secret)

export function openBunkerState(env: RootDatabase, seal: TokenSeal): BunkerState {
  const db: Database<unknown, DbKey> = env.openDB({ name: 'bunker' })
  const maps = { key: new Map(), policy: new Map(), token: new Map(), user: new Map(), perm: new Map(), name: new Map() } as Record<
    Kind,
    Map<string | number, unknown>
  >
  const ids = { policy: 0, token: 0, user: 0, perm: 0 }
  let vault: VaultParams | undefined
  let auditSeq = 0
  let batchSeq = 0
  const newBatch = (): Batch => ({ seq: ++batchSeq, writes: [], touched: new Map() })
  let staged = newBatch()
  /** The latest batch that touched each record not yet known to be on disk. */
  const lastTouch = new Map<string, number>()

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
  // Secondary indexes, rebuilt at boot and kept in step by put/remove (and by a rollback).
  const userIndex = new Map<string, number>()
  const tokenIndex = new Map<string, number>()
  const permIndex = new Map<number, Set<number>>()
  const names = maps.name as Map<string, NameRecord>
  const nameIndex = new Map<string, Set<string>>()

  function index(kind: Kind, v: unknown): void {
    if (kind === 'user') userIndex.set(`${(v as KeyUser).keyName}\n${(v as KeyUser).pubkey}`, (v as KeyUser).id)
    if (kind === 'token') tokenIndex.set(hashOf(v as Token), (v as Token).id)
    if (kind === 'perm') {
      const p = v as Permission
      let s = permIndex.get(p.userId)
      if (!s) permIndex.set(p.userId, (s = new Set()))
      s.add(p.id)
    }
    if (kind === 'name') {
      const n = v as NameRecord
      let s = nameIndex.get(n.keyName)
      if (!s) nameIndex.set(n.keyName, (s = new Set()))
      s.add(n.id)
    }
  }

  function unindex(kind: Kind, v: unknown): void {
    if (kind === 'user') userIndex.delete(`${(v as KeyUser).keyName}\n${(v as KeyUser).pubkey}`)
    if (kind === 'token') tokenIndex.delete(hashOf(v as Token))
    if (kind === 'perm') {
      const p = v as Permission
      const s = permIndex.get(p.userId)
      s?.delete(p.id)
      if (s?.size === 0) permIndex.delete(p.userId)
    }
    if (kind === 'name') {
      const n = v as NameRecord
      const s = nameIndex.get(n.keyName)
      s?.delete(n.id)
      if (s?.size === 0) nameIndex.delete(n.keyName)
    }
  }

  for (const kind of Object.keys(maps) as Kind[]) for (const v of maps[kind].values()) index(kind, v)

  /** Sets (or, with undefined, deletes) a record in memory, keeping the indexes in step. */
  function setInMemory(kind: Kind, id: string | number, v: unknown): void {
    const old = maps[kind].get(id)
    if (old !== undefined) unindex(kind, old)
    if (v === undefined) maps[kind].delete(id)
    else {
      maps[kind].set(id, v)
      index(kind, v)
    }
  }

  function stage(kind: Kind | 'vault', id: string | number, write: () => void): void {
    staged.writes.push(write)
    const k = recKey(kind, id)
    staged.touched.set(k, [kind, id])
    lastTouch.set(k, staged.seq)
  }

  /** After a batch settles: its records are on disk, or are read back from there. */
  function settle(batch: Batch, failed: boolean): void {
    for (const [k, [kind, id]] of batch.touched) {
      // a later batch that touched the record too will write it (or restore it) in its turn
      if (lastTouch.get(k) !== batch.seq) continue
      lastTouch.delete(k)
      if (!failed) continue
      const onDisk = db.get([kind, id] as DbKey)
      if (kind === 'vault') vault = onDisk as VaultParams | undefined
      else setInMemory(kind, id, onDisk)
    }
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
    seal,
    nextId: (kind) => ++ids[kind],
    userFor: (keyName, client) => {
      const id = userIndex.get(`${keyName}\n${client}`)
      return id === undefined ? undefined : users.get(id)
    },
    tokenBySecret: (secret) => {
      const id = tokenIndex.get(tokenHash(secret))
      return id === undefined ? undefined : tokens.get(id)
    },
    permsOf: (userId) => [...(permIndex.get(userId) ?? [])].map((id) => perms.get(id)!),
    namesOf: (keyName) => [...(nameIndex.get(keyName) ?? [])].map((id) => names.get(id)!),
    put(kind: Kind, v: unknown) {
      if (kind === 'token' && (v as Token).redeemedAt !== null && (v as Token).sealedSecret !== null) v = { ...(v as Token), sealedSecret: null }
      const id = idOf(kind, v as { id?: number | string; name?: string })
      setInMemory(kind, id, v)
      // records are replaced, never mutated below their top level, so a shallow copy is a snapshot
      const snapshot = { ...(v as object) }
      stage(kind, id, () => db.putSync([kind, id], snapshot))
    },
    remove(kind, id) {
      setInMemory(kind, id, undefined)
      stage(kind, id, () => db.removeSync([kind, id]))
    },
    setVault(params) {
      vault = params
      stage('vault', 'params', () => db.putSync(['vault', 'params'], params))
    },
    audit(entry) {
      const key: DbKey = ['audit', Date.now(), auditSeq++]
      staged.writes.push(() => db.putSync(key, entry))
    },
    commit() {
      const batch = staged
      staged = newBatch()
      if (batch.writes.length === 0) return Promise.resolve()
      let done: Promise<unknown>
      try {
        // A child transaction: lmdb-js batches async transactions into one LMDB transaction, and a
        // plain one whose callback throws halfway still commits the writes made before the throw.
        done = env.childTransaction(() => {
          for (const write of batch.writes) write()
        })
      } catch (err) {
        done = Promise.reject(err)
      }
      return done.then(
        () => settle(batch, false),
        (err) => {
          settle(batch, true)
          throw err
        },
      )
    },
  }
  return state
}
