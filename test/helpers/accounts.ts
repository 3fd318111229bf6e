// Helpers for the account provider: a server with accounts on, nostr-tools' NIP-05 fetches routed to
// it (with the Host header of the domain asked for), and create_account without nostr-tools' connect.
import { request } from 'node:http'
import { BunkerSigner, useFetchImplementation, type BunkerProfile } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey } from 'nostr-tools/pure'
import { withTimeout } from './clients.ts'
import { STEP_MS, startBunkerServer, type BunkerServer } from './bunker.ts'
import type { StartOptions } from './server.ts'

export const VAULT_SECRET = 'accounts test vault secret'
export const DOMAINS = ['example.com', 'other.test']

/** A bunker server whose config has `bunker.accounts` = defaults for tests + `accounts`. */
export function startAccountsServer(
  accounts: Record<string, unknown>,
  opts: StartOptions & { adminSk?: Uint8Array; vault?: boolean } = {},
): Promise<BunkerServer> {
  return startBunkerServer({
    ...opts,
    env: { ...(opts.vault === false ? {} : { NSECRELAY_VAULT_SECRET: VAULT_SECRET }), ...opts.env },
    config: { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, accounts: { enabled: true, domains: DOMAINS, ...accounts } } },
  })
}

/** GET over loopback with the Host header a real fetch of `url` would send. */
export function getVia(server: string, url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url)
  const local = new URL(server.replace(/^ws/, 'http'))
  return new Promise((resolve, reject) => {
    const req = request(
      { host: local.hostname, port: local.port, path: target.pathname + target.search, headers: { host: target.host }, timeout: STEP_MS },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)))
    req.end()
  })
}

/** Points nostr-tools' NIP-05 lookups (`https://<domain>/.well-known/nostr.json`) at `server`. */
export function routeNip05(server: string): void {
  useFetchImplementation(async (url: string) => {
    const r = await getVia(server, url)
    return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json' } })
  })
}

/**
 * nostr-tools' createAccount mutates the pointer it is given (`bp.pubkey = <new key>`), so every
 * call gets a fresh profile.
 */
export const providerProfile = (b: BunkerServer, domain = DOMAINS[0]): BunkerProfile => ({
  bunkerPointer: { pubkey: b.bunker.pubkey, relays: [b.server.url], secret: null },
  domain,
  nip05: `_@${domain}`,
  name: 'nsecrelay',
  picture: '',
  about: '',
  website: '',
  local: false,
})

/** Sends create_account only (no connect after it); resolves with the new pubkey or rejects with the error. */
export async function askCreate(
  b: BunkerServer,
  pool: SimplePool,
  params: string[],
  clientSk = generateSecretKey(),
  provider = b.bunker.pubkey,
): Promise<string> {
  const signer = BunkerSigner.fromBunker(clientSk, { pubkey: provider, relays: [b.server.url], secret: null }, { pool })
  try {
    return await withTimeout(signer.sendRequest('create_account', params), STEP_MS, 'create_account')
  } finally {
    await signer.close()
  }
}
