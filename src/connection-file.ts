// The admin connection strings, and DATA/connection.txt that holds them for the CLI and operators:
//   bunker://<admin hex>?relay=<percent-encoded url>&...   what nostr-tools, NDK and LNbits parse
//   bunker://<admin npub>@<host>[,<host>...]               the nsecbunker admin UI's legacy form
// The admin UI splits what follows `@` at commas and puts `wss://` before each part, without
// percent-decoding: so the legacy form lists only wss:// URLs, without the scheme and unencoded
// (nsecbunkerd percent-encodes it, which the UI cannot read back once a port or path is in it).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nip19 } from 'nostr-tools'

export const CONNECTION_FILE = 'connection.txt'

export const currentForm = (adminPubkey: string, relays: string[]): string =>
  `bunker://${adminPubkey}?${relays.map((u) => `relay=${encodeURIComponent(u)}`).join('&')}`

/** Undefined when no relay URL is wss:// (the admin UI connects over wss:// only). */
export function legacyForm(adminPubkey: string, relays: string[]): string | undefined {
  const hosts = relays.filter((u) => /^wss:\/\//i.test(u)).map((u) => u.slice('wss://'.length))
  return hosts.length === 0 ? undefined : `bunker://${nip19.npubEncode(adminPubkey)}@${hosts.join(',')}`
}

export function writeConnectionFile(dataDir: string, adminPubkey: string, relays: string[]): string {
  const path = join(dataDir, CONNECTION_FILE)
  const legacy = legacyForm(adminPubkey, relays)
  writeFileSync(path, `${currentForm(adminPubkey, relays)}\n${legacy ? `${legacy}\n` : ''}`, { mode: 0o600 })
  chmodSync(path, 0o600)
  return path
}

export interface Connection {
  adminPubkey: string
  relays: string[]
}

/** Reads a `bunker://<hex>?relay=...` string. */
export function parseConnection(text: string): Connection {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new Error(`not a bunker:// connection string: ${text.slice(0, 80)}`)
  }
  const adminPubkey = url.hostname
  const relays = url.searchParams.getAll('relay')
  if (url.protocol !== 'bunker:' || !/^[0-9a-f]{64}$/.test(adminPubkey) || relays.length === 0)
    throw new Error(`not a bunker://<hex pubkey>?relay=<url> connection string: ${text.slice(0, 80)}`)
  return { adminPubkey, relays }
}

/** The connection the running (or last) server wrote; throws naming the file when there is none. */
export function readConnectionFile(dataDir: string): Connection {
  const path = join(dataDir, CONNECTION_FILE)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new Error(`${path} not found: start the relay once (nsecrelay start), or give --uri bunker://...`)
  }
  return parseConnection(text.split('\n')[0])
}
