// nsecbunkerd's nsecbunker.json: the keys (AES-256-CBC `{iv, data}` from create_new_key and
// `nsecbunkerd add`, or a plaintext `{key}` hex from create_account) and the admin section (the
// bunker's own identity key in plaintext hex, and the admins' npubs). Other sections (relays,
// domains, wallets) have no counterpart here and are ignored.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ImportError, messageOf } from '../errors.ts'
import { decodeKey, pubkeyOf } from './keytext.ts'

const keyEntry = z.looseObject({ iv: z.string().optional(), data: z.string().optional(), key: z.string().optional() })
const schema = z.looseObject({
  admin: z.looseObject({ npubs: z.array(z.string()).nullish(), key: z.string().nullish() }).nullish(),
  keys: z.record(z.string(), keyEntry).nullish(),
})

export type KeyEntry = { name: string; encrypted: { iv: string; data: string } } | { name: string; plaintext: Uint8Array }

export interface BunkerConfig {
  path: string
  keys: KeyEntry[]
  /** Admin pubkeys (hex), from admin.npubs. */
  admins: string[]
  /** The bunker's own identity key (admin.key), which LNbits and admin UIs address. */
  adminKey: Uint8Array | null
}

export function readBunkerConfig(path: string): BunkerConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new ImportError(`${path}: cannot read (${messageOf(e)})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new ImportError(`${path}: not valid JSON (${messageOf(e)})`)
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    throw new ImportError(
      `${path}: not an nsecbunkerd configuration`,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`),
    )
  }
  const problems: string[] = []
  const keys: KeyEntry[] = []
  for (const [name, entry] of Object.entries(parsed.data.keys ?? {})) {
    const k = keyEntry_(name, entry, problems)
    if (k) keys.push(k)
  }
  const admins: string[] = []
  for (const npub of parsed.data.admin?.npubs ?? []) {
    const hex = decodeKey(npub, 'npub')
    if (hex) admins.push(hex)
    else problems.push(`admin.npubs: ${JSON.stringify(npub)} is not an npub`)
  }
  const adminHex = parsed.data.admin?.key
  const adminText = adminHex ? decodeKey(adminHex, 'nsec') : undefined
  const adminKey = adminText ? Buffer.from(adminText, 'hex') : null
  if (adminHex && !(adminKey && pubkeyOf(adminKey))) problems.push('admin.key: not a valid private key (64 hex or nsec)')
  if (problems.length > 0) throw new ImportError(`${path}: invalid entries`, problems)
  return { path, keys, admins, adminKey }
}

function keyEntry_(name: string, entry: z.output<typeof keyEntry>, problems: string[]): KeyEntry | undefined {
  const where = `keys.${JSON.stringify(name)}`
  if (name.trim() === '') problems.push(`${where}: empty key name`)
  if (entry.iv !== undefined || entry.data !== undefined) {
    const { iv, data } = entry
    if (typeof iv !== 'string' || !/^[0-9a-f]{32}$/i.test(iv)) problems.push(`${where}.iv: not 16 bytes of hex (corrupt)`)
    else if (typeof data !== 'string' || !/^([0-9a-f]{32})+$/i.test(data)) problems.push(`${where}.data: not whole AES blocks of hex (corrupt)`)
    else return { name, encrypted: { iv, data } }
    return undefined
  }
  if (entry.key !== undefined) {
    const hex = decodeKey(entry.key, 'nsec')
    const sk = hex ? Buffer.from(hex, 'hex') : undefined
    if (sk && pubkeyOf(sk)) return { name, plaintext: sk }
    problems.push(`${where}.key: not a valid private key (64 hex or nsec)`)
    return undefined
  }
  problems.push(`${where}: has neither iv/data nor key`)
  return undefined
}
