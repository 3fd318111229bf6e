// Keys at rest. A user key is always kept as a NIP-49 ncryptsec under its passphrase. When the
// operator configures a vault secret, the key is also wrapped under a key derived once from that
// secret, so it comes back unlocked at boot. The admin identity lives in a 0600 file: an ncryptsec
// under the vault secret when there is one, else its nsec.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { nip19 } from 'nostr-tools'
import { generateSecretKey } from 'nostr-tools/pure'
import { decryptKey, encryptKey } from './nip49.ts'
import type { Scrypt } from './scrypt-pool.ts'

/** A key derived from the vault secret; wraps and unwraps user keys in microseconds. */
export interface VaultKey {
  wrap(sk: Uint8Array): string
  unwrap(wrapped: string): Uint8Array
}

const CHECK = new TextEncoder().encode('nsecrelay vault check')

function vaultKeyFrom(key: Uint8Array): VaultKey {
  return {
    wrap(sk) {
      const nonce = randomBytes(24)
      return bytesToHex(nonce) + bytesToHex(xchacha20poly1305(key, nonce).encrypt(sk))
    },
    unwrap(wrapped) {
      return xchacha20poly1305(key, hexToBytes(wrapped.slice(0, 48))).decrypt(hexToBytes(wrapped.slice(48)))
    },
  }
}

export interface VaultParams {
  salt: string
  logn: number
  /** CHECK wrapped under the derived key: tells a wrong secret at boot instead of failing later. */
  check: string
}

/** Derives the vault key, creating its salt on first use. Throws on a wrong secret. */
export async function openVault(
  secret: string,
  params: VaultParams | undefined,
  logn: number,
  scrypt: Scrypt,
): Promise<{ key: VaultKey; params: VaultParams }> {
  if (params) {
    const key = vaultKeyFrom(await scrypt(secret, hexToBytes(params.salt), params.logn))
    try {
      key.unwrap(params.check)
    } catch {
      throw new Error('the vault secret does not match the one this data directory was created with')
    }
    return { key, params }
  }
  const salt = randomBytes(16)
  const key = vaultKeyFrom(await scrypt(secret, salt, logn))
  return { key, params: { salt: bytesToHex(salt), logn, check: key.wrap(CHECK) } }
}

export const encryptUserKey = encryptKey
export const decryptUserKey = decryptKey

/** Loads the admin secret key from `path`, creating it on first start. */
export async function loadAdminKey(path: string, vaultSecret: string | undefined, logn: number, scrypt: Scrypt): Promise<Uint8Array> {
  if (!existsSync(path)) {
    const sk = generateSecretKey()
    await writeAdminKey(path, sk, vaultSecret, logn, scrypt)
    return sk
  }
  chmodSync(path, 0o600)
  const text = readFileSync(path, 'utf8').trim()
  if (text.startsWith('ncryptsec1')) {
    if (!vaultSecret) throw new Error(`${path} is encrypted: configure the vault secret to start`)
    return decryptKey(text, vaultSecret, scrypt)
  }
  const decoded = nip19.decode(text)
  if (decoded.type !== 'nsec') throw new Error(`${path} does not hold an nsec or ncryptsec`)
  if (vaultSecret) await writeAdminKey(path, decoded.data, vaultSecret, logn, scrypt) // upgrade to encrypted at rest
  return decoded.data
}

export async function writeAdminKey(path: string, sk: Uint8Array, vaultSecret: string | undefined, logn: number, scrypt: Scrypt): Promise<void> {
  const text = vaultSecret ? await encryptKey(sk, vaultSecret, logn, scrypt) : nip19.nsecEncode(sk)
  writeFileSync(path, `${text}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
}
