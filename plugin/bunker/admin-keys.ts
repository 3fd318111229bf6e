// Admin methods about keys: create, unlock, list, delete. create_new_key and unlock_key register the
// key in the relay's dispatch table before they return, so the reply follows the registration.
import { nip19 } from 'nostr-tools'
import { generateSecretKey } from 'nostr-tools/pure'
import { publicKeyOf } from './sign.ts'
import { hexToBytes } from '@noble/hashes/utils.js'
import type { Keyring } from './keyring.ts'
import type { Reply } from './rpc.ts'
import { ScryptBusy, type Scrypt } from './scrypt-pool.ts'
import type { BunkerState, KeyRecord } from './state.ts'
import type { UnlockGuard } from './unlock-guard.ts'
import { decryptUserKey, encryptUserKey, type VaultKey } from './vault.ts'

export interface KeyAdminDeps {
  state: BunkerState
  keyring: Keyring
  vault?: VaultKey
  scryptLogN: number
  /** The bunker's scrypt pool: refuses work past its queue with ScryptBusy. */
  scrypt: Scrypt
  unlockGuard: UnlockGuard
}

export type AdminMethod = (params: string[]) => Reply | Promise<Reply>

export const ok = (v: unknown): Reply => ({ result: JSON.stringify(v) })
export const fail = (error: string): Reply => ({ error })
/** unlock_key's failure keeps nsecbunkerd's result shape, and is logged and counted as an error. */
const unlockFailed = (error: string): Reply => ({ result: JSON.stringify({ success: false, error }), outcome: 'error' })

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const validName = (name: unknown): name is string => typeof name === 'string' && name.length > 0 && name.length <= 128 && !/[\u0000-\u001f]/.test(name)

function decodeSecret(text: string): Uint8Array | undefined {
  try {
    if (/^[0-9a-f]{64}$/i.test(text)) return hexToBytes(text.toLowerCase())
    const d = nip19.decode(text)
    return d.type === 'nsec' ? d.data : undefined
  } catch {
    return undefined
  }
}

/** The pubkey of a secret key, or undefined for 0 and values at or past the curve order. */
function pubkeyOf(sk: Uint8Array): string | undefined {
  try {
    return publicKeyOf(sk)
  } catch {
    return undefined
  }
}

/** A full scrypt queue answers at once: the admin may retry, nothing else waits behind it. */
export function busyOr(err: unknown): Reply {
  if (err instanceof ScryptBusy) return fail(err.message)
  throw err
}

export function keyCounts(state: BunkerState, keyName: string): { userCount: number; tokenCount: number } {
  let userCount = 0
  let tokenCount = 0
  for (const u of state.users.values()) if (u.keyName === keyName) userCount++
  for (const t of state.tokens.values()) if (t.keyName === keyName) tokenCount++
  return { userCount, tokenCount }
}

/**
 * Encrypts a new key (NIP-49, and the vault wrap when there is a vault), stages it with whatever
 * `stage` adds, commits that as one transaction and registers the key. Callers reply only after it
 * resolves. Undefined, with nothing written, when a key of that name appeared while we hashed.
 */
export async function storeNewKey(
  deps: Pick<KeyAdminDeps, 'state' | 'keyring' | 'vault' | 'scryptLogN' | 'scrypt'>,
  keyName: string,
  sk: Uint8Array,
  passphrase: string,
  stage?: (record: KeyRecord) => void,
): Promise<KeyRecord | undefined> {
  const ncryptsec = await encryptUserKey(sk, passphrase, deps.scryptLogN, deps.scrypt)
  if (deps.state.keys.has(keyName)) return undefined
  const record: KeyRecord = { name: keyName, pubkey: publicKeyOf(sk), ncryptsec, vaultWrapped: deps.vault?.wrap(sk), createdAt: Date.now() }
  deps.state.put('key', record)
  deps.state.audit({ at: record.createdAt, event: 'key_created', key: keyName })
  stage?.(record)
  await deps.state.commit() // a failed commit takes the record back out of memory, and throws
  deps.keyring.register(keyName, sk) // synchronous; the reply is published only after this returns
  return record
}

export function keyAdminMethods(deps: KeyAdminDeps): Record<string, AdminMethod> {
  const { state, keyring } = deps
  const npubOf = (k: KeyRecord) => nip19.npubEncode(k.pubkey)

  return {
    async create_new_key([keyName, passphrase, nsec]) {
      if (!validName(keyName)) return fail('create_new_key needs a key name')
      if (!passphrase) return fail('create_new_key needs a passphrase')
      if (state.keys.has(keyName)) return fail(`a key named ${keyName} already exists`)
      const sk = nsec ? decodeSecret(nsec) : generateSecretKey()
      const pubkey = sk && pubkeyOf(sk)
      if (!sk || !pubkey) return fail('the nsec given is not a valid secret key')
      let record: KeyRecord | undefined
      try {
        record = await storeNewKey(deps, keyName, sk, passphrase)
      } catch (err) {
        return busyOr(err)
      }
      if (!record) return fail(`a key named ${keyName} already exists`) // created while we hashed
      return ok({ npub: npubOf(record) })
    },

    async unlock_key([keyName, passphrase]) {
      const record = state.keys.get(keyName ?? '')
      if (!record) return unlockFailed(`no key named ${keyName}`)
      if (keyring.get(record.name)) return ok({ success: true })
      const wait = deps.unlockGuard.begin(record.name, Date.now())
      if (wait !== undefined) return fail(`rate-limited: too many failed unlock attempts for ${record.name}, retry in ${wait} s`)
      let sk: Uint8Array
      try {
        sk = await decryptUserKey(record.ncryptsec, passphrase ?? '', deps.scrypt)
      } catch (err) {
        if (err instanceof ScryptBusy) {
          deps.unlockGuard.end(record.name, 'not-tried', Date.now())
          return fail(err.message)
        }
        deps.unlockGuard.end(record.name, 'failed', Date.now())
        return unlockFailed('wrong passphrase')
      }
      deps.unlockGuard.end(record.name, 'ok', Date.now())
      // while scrypt ran, the key may have been deleted, or unlocked by another request
      const current = state.keys.get(record.name)
      if (current?.pubkey !== record.pubkey) return unlockFailed(`no key named ${record.name}`)
      if (keyring.get(record.name)) return ok({ success: true })
      if (deps.vault && !current.vaultWrapped) {
        state.put('key', { ...current, vaultWrapped: deps.vault.wrap(sk) })
        await state.commit()
      }
      keyring.register(record.name, sk)
      return ok({ success: true })
    },

    get_keys() {
      return ok([...state.keys.values()].map((k) => (keyring.get(k.name) ? { name: k.name, npub: npubOf(k), ...keyCounts(state, k.name) } : { name: k.name })))
    },

    get_key([keyName]) {
      const k = state.keys.get(keyName ?? '')
      if (!k) return fail(`no key named ${keyName}`)
      return ok({ name: k.name, npub: npubOf(k), locked: !keyring.get(k.name), createdAt: new Date(k.createdAt).toISOString(), ...keyCounts(state, k.name) })
    },

    async delete_key([keyName]) {
      if (!state.keys.has(keyName ?? '')) return fail(`no key named ${keyName}`)
      keyring.unregister(keyName)
      for (const u of [...state.users.values()]) {
        if (u.keyName !== keyName) continue
        for (const p of state.permsOf(u.id)) state.remove('perm', p.id)
        state.remove('user', u.id)
      }
      for (const t of [...state.tokens.values()]) if (t.keyName === keyName) state.remove('token', t.id)
      for (const n of state.namesOf(keyName)) state.remove('name', n.id)
      state.remove('key', keyName)
      state.audit({ at: Date.now(), event: 'key_deleted', key: keyName })
      await state.commit()
      return ok(['ok'])
    },
  }
}
