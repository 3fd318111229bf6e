// NIP-49 (ncryptsec): the same format as nostr-tools' nip49, with the scrypt step handed to the
// caller's Scrypt (the bunker's own worker pool), so a key's ~250 ms of hashing neither blocks the
// event loop nor occupies the thread pool LMDB commits run on.
import { randomBytes } from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { bech32 } from '@scure/base'
import type { Scrypt } from './scrypt-pool.ts'

const BECH32_LIMIT = 5000
/** key_security_byte 0x02: the client does not track whether the key was handled insecurely. */
const KSB = 2

export async function encryptKey(sk: Uint8Array, password: string, logn: number, scrypt: Scrypt): Promise<string> {
  const salt = randomBytes(16)
  const nonce = randomBytes(24)
  const aad = Uint8Array.from([KSB])
  const key = await scrypt(password, salt, logn)
  const ct = xchacha20poly1305(key, nonce, aad).encrypt(sk)
  const bytes = Uint8Array.from([2, logn, ...salt, ...nonce, ...aad, ...ct])
  return bech32.encode('ncryptsec', bech32.toWords(bytes), BECH32_LIMIT)
}

/** Throws when the password is wrong or the text is not an ncryptsec. */
export async function decryptKey(ncryptsec: string, password: string, scrypt: Scrypt): Promise<Uint8Array> {
  const { prefix, words } = bech32.decode(ncryptsec as `${string}1${string}`, BECH32_LIMIT)
  if (prefix !== 'ncryptsec') throw new Error('not an ncryptsec')
  const b = bech32.fromWords(words)
  if (b[0] !== 2) throw new Error(`unsupported ncryptsec version ${b[0]}`)
  const salt = b.slice(2, 18)
  const nonce = b.slice(18, 42)
  const aad = b.slice(42, 43)
  const key = await scrypt(password, salt, b[1])
  return xchacha20poly1305(key, nonce, aad).decrypt(b.slice(43))
}
