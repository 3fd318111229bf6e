// The nsecbunkerd import's writing side on the bunker's own state (plugin/bunker/state.ts), for an
// offline import (the relay stopped: the bunker holds its state in memory). Everything is staged
// here and written in commit(), in one LMDB transaction: a key is re-stored as NIP-49 under its
// passphrase (and wrapped under the vault key when there is one), a token secret kept as its hash
// and, while unredeemed, sealed under the admin key. Taking over nsecbunkerd's identity key (what
// LNbits and the admin UI address) re-seals the secrets of tokens already here under it; its file
// is replaced only once the transaction has committed.
import { renameSync, rmSync } from 'node:fs'
import { encryptKey } from '../../plugin/bunker/nip49.ts'
import type { Scrypt } from '../../plugin/bunker/scrypt-pool.ts'
import type { BunkerState, KeyRecord, KeyUser, Permission, Policy, Token } from '../../plugin/bunker/state.ts'
import { createTokenSeal, tokenHash } from '../../plugin/bunker/token-seal.ts'
import { type VaultKey, writeAdminKey } from '../../plugin/bunker/vault.ts'
import { ImportError } from './errors.ts'
import type { NsecbunkerdTarget, TargetToken } from './nsecbunkerd/index.ts'

export interface BunkerTargetDeps {
  state: BunkerState
  scrypt: Scrypt
  scryptLogN: number
  vault?: VaultKey
  vaultSecret?: string
  /** DATA/bunker-admin.key */
  adminKeyPath: string
  /** false: keep this bunker's own identity key. */
  takeAdminKey: boolean
}

/** Why a key of this name (or with this pubkey) cannot come in, or undefined. */
export function keyConflict(state: BunkerState, name: string, pubkey?: string): string | undefined {
  if (state.keys.has(name)) return `a key named ${JSON.stringify(name)} exists here already`
  for (const k of state.keys.values())
    if (pubkey !== undefined && k.pubkey === pubkey) return `key ${JSON.stringify(name)} is here already, as ${JSON.stringify(k.name)}`
  return undefined
}

/**
 * nsecbunkerd's method names are its NDK backend's: "encrypt" and "decrypt" are NIP-04's
 * (nip04_encrypt and nip04_decrypt here); the rest are the same.
 */
export const methodFromNsecbunkerd = (method: string): string => (method === 'encrypt' || method === 'decrypt' ? `nip04_${method}` : method)

export function bunkerTarget(deps: BunkerTargetDeps): NsecbunkerdTarget {
  const { state } = deps
  const keys: KeyRecord[] = []
  const policies: Policy[] = []
  const users: KeyUser[] = []
  const perms: Permission[] = []
  const tokens: Array<{ id: number; t: TargetToken }> = []
  let adminSk: Uint8Array | undefined
  const now = Date.now()

  const target: NsecbunkerdTarget = {
    async putKey(name, sk, passphrase, { pubkey }) {
      const conflict = keyConflict(state, name, pubkey) ?? (keys.some((k) => k.pubkey === pubkey) ? `key ${JSON.stringify(name)} appears twice` : undefined)
      if (conflict) throw new ImportError(`nothing imported: ${conflict}`)
      const ncryptsec = await encryptKey(sk, passphrase, deps.scryptLogN, deps.scrypt)
      keys.push({ name, pubkey, ncryptsec, vaultWrapped: deps.vault?.wrap(sk), createdAt: now })
    },
    putPolicy(p) {
      const id = state.nextId('policy')
      // a rule's use count upstream is never raised (nsecbunkerd does not enforce it): not kept
      policies.push({ ...p, id, rules: p.rules.map(({ method, kind, maxUsage }) => ({ method: methodFromNsecbunkerd(method), kind, maxUsage })) })
      return id
    },
    putUser(u) {
      const id = state.nextId('user')
      users.push({
        id,
        keyName: u.keyName,
        pubkey: u.pubkey,
        description: u.description,
        createdAt: u.createdAt,
        lastUsedAt: u.lastUsedAt,
        revokedAt: u.revokedAt,
      })
      return id
    },
    putPermission(p) {
      perms.push({
        id: state.nextId('perm'),
        userId: p.userId,
        method: methodFromNsecbunkerd(p.method),
        kind: p.kind,
        allowed: p.allowed,
        maxUsage: null,
        used: 0,
        expiresAt: null,
      })
    },
    putToken(t) {
      tokens.push({ id: state.nextId('token'), t })
    },
    async commit() {
      const seal = adminSk ? createTokenSeal(adminSk) : state.seal
      if (adminSk) {
        // tokens already here were sealed under the key being replaced
        for (const t of state.tokens.values()) {
          const secret = state.seal.open(t)
          if (secret !== undefined) state.put('token', { ...t, sealedSecret: seal.seal(t.id, secret) })
        }
      }
      for (const k of keys) {
        state.put('key', k)
        state.audit({ at: now, event: 'key_imported', key: k.name, from: 'nsecbunkerd' })
      }
      for (const p of policies) state.put('policy', p)
      for (const u of users) state.put('user', u)
      for (const p of perms) state.put('perm', p)
      for (const { id, t } of tokens) state.put('token', tokenRecord(id, t, seal.seal(id, t.secret)))
      const staged = `${deps.adminKeyPath}.importing`
      if (adminSk) await writeAdminKey(staged, adminSk, deps.vaultSecret, deps.scryptLogN, deps.scrypt)
      try {
        await state.commit()
      } catch (err) {
        rmSync(staged, { force: true })
        throw err
      }
      if (adminSk) renameSync(staged, deps.adminKeyPath)
    },
  }
  if (deps.takeAdminKey) target.putAdminKey = (sk) => void (adminSk = sk)
  return target
}

function tokenRecord(id: number, t: TargetToken, sealed: string): Token {
  return {
    id,
    keyName: t.keyName,
    clientName: t.clientName,
    secretHash: tokenHash(t.secret),
    sealedSecret: t.redeemedAt === null ? sealed : null,
    policyId: t.policyId,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    expiresAt: t.expiresAt,
    redeemedAt: t.redeemedAt,
    redeemedBy: t.redeemedBy,
  }
}
