// nsecbunkerd's key encryption, undone: AES-256-CBC whose key is one unsalted SHA-256 of the
// passphrase, over the bech32 nsec text. There is no MAC, so a wrong passphrase shows only as bad
// padding or as plaintext that is not an nsec; either is reported as "wrong passphrase or corrupt".
import { createDecipheriv, createHash } from 'node:crypto'
import type { KeyEntry } from './config.ts'
import { decodeKey, pubkeyOf } from './keytext.ts'

/** What the CLI's prompt is told: which key, whether it decrypts it, and why it is asked again. */
export interface PassphraseRequest {
  /** true: the passphrase must decrypt the key; false: the key was stored in plaintext upstream
   *  and the passphrase only protects it from now on (NIP-49). */
  encrypted: boolean
  /** 1 for the first request for this key. */
  attempt: number
  /** Why the previous answer was not taken. */
  retry?: string
}

export type PassphraseFor = (keyName: string, request: PassphraseRequest) => Promise<string>

export interface UnlockedKey {
  name: string
  pubkey: string
  secretKey: Uint8Array
  passphrase: string
  wasEncrypted: boolean
}

/** The secret key inside `{iv, data}`, or undefined when the passphrase does not open it. */
export function decryptNsecbunkerdKey(iv: string, data: string, passphrase: string): Uint8Array | undefined {
  let text: string
  try {
    const key = createHash('sha256').update(passphrase).digest()
    const d = createDecipheriv('aes-256-cbc', key, Buffer.from(iv, 'hex'))
    text = Buffer.concat([d.update(Buffer.from(data, 'hex')), d.final()]).toString('utf8')
  } catch {
    return undefined
  }
  const hex = decodeKey(text, 'nsec')
  return hex ? Buffer.from(hex, 'hex') : undefined
}

/**
 * Asks for each key's passphrase (one key at a time, in config order) and opens the key. A wrong
 * passphrase is asked again, up to `maxAttempts`; then it is a problem, and so is an empty one.
 */
export async function unlockKeys(entries: KeyEntry[], passphraseFor: PassphraseFor, maxAttempts: number, problems: string[]): Promise<UnlockedKey[]> {
  const keys: UnlockedKey[] = []
  for (const entry of entries) {
    const where = `key ${JSON.stringify(entry.name)}`
    const encrypted = 'encrypted' in entry
    let retry: string | undefined
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const passphrase = await passphraseFor(entry.name, { encrypted, attempt, retry })
      if (passphrase === '') {
        retry = 'an empty passphrase cannot protect a key'
        continue
      }
      const sk = encrypted ? decryptNsecbunkerdKey(entry.encrypted.iv, entry.encrypted.data, passphrase) : entry.plaintext
      const pubkey = sk && pubkeyOf(sk)
      if (sk && pubkey) {
        keys.push({ name: entry.name, pubkey, secretKey: sk, passphrase, wasEncrypted: encrypted })
        retry = undefined
        break
      }
      retry = 'wrong passphrase, or the encrypted key is corrupt'
    }
    if (retry) problems.push(`${where}: ${retry} (${maxAttempts} attempts)`)
  }
  return keys
}
