// The local admin client key, DATA/admin-client.key (an nsec, mode 0600): created at the first start
// that has no admin configured, and an admin of the bunker whenever the file exists, so that the
// `nsecrelay` commands on this machine can administer it without any setup. Delete the file to
// take that away.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nip19 } from 'nostr-tools'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'

export const ADMIN_CLIENT_KEY = 'admin-client.key'

/** Reads a secret key file: nsec, or 64 hex; throws naming the file. */
export function readKeyFile(path: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch {
    throw new Error(`${path}: cannot read the admin client key`)
  }
  if (/^[0-9a-f]{64}$/i.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'))
  try {
    const d = nip19.decode(text)
    if (d.type === 'nsec') return d.data
  } catch {}
  throw new Error(`${path}: not an nsec or a 64 hex secret key`)
}

export interface LocalAdmin {
  /** The admins to run with: the configured ones, plus the local key when its file exists. */
  admins: string[]
  path: string
  pubkey?: string
  /** True when this start created the file. */
  created: boolean
}

export function localAdmin(dataDir: string, configured: string[]): LocalAdmin {
  const path = join(dataDir, ADMIN_CLIENT_KEY)
  let created = false
  if (!existsSync(path)) {
    if (configured.length > 0) return { admins: configured, path, created }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    writeFileSync(path, `${nip19.nsecEncode(generateSecretKey())}\n`, { mode: 0o600, flag: 'wx' })
    created = true
  }
  chmodSync(path, 0o600)
  const pubkey = getPublicKey(readKeyFile(path))
  return { admins: configured.includes(pubkey) ? configured : [...configured, pubkey], path, pubkey, created }
}
