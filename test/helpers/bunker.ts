// A server with the bunker and an admin, plus admin clients: nostr-tools' BunkerSigner speaking the
// admin RPC on kind 24133 with NIP-44, and NDK's NDKNostrRpc on kind 24134 with NIP-04 as the
// nsecbunker admin UI does. Every call is bounded by a timeout.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nip19 } from 'nostr-tools'
import { afterAll, beforeAll } from 'vitest'
import { BunkerSigner, parseBunkerInput, type BunkerPointer } from 'nostr-tools/nip46'
import { SimplePool } from 'nostr-tools/pool'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { checkEvent } from '../../relay/verify.ts'
import { now, withTimeout } from './clients.ts'
import { startServerProcess, tempDir, type ServerProcess, type StartOptions } from './server.ts'

export const STEP_MS = 5000

/** A SimplePool that verifies with libsecp256k1 (wasm) instead of pure JS: ~6x less client CPU. */
export async function fastPool(): Promise<SimplePool> {
  // SimplePool's constructor type hides verifyEvent, but it forwards every option to its base class.
  return new SimplePool({ verifyEvent: (e: Event) => checkEvent(e) === 'ok' } as ConstructorParameters<typeof SimplePool>[0])
}

export interface BunkerServer {
  server: ServerProcess
  adminSk: Uint8Array
  adminPk: string
  /** The bunker's admin identity, from the bunker:// line. */
  bunker: BunkerPointer
}

/** scryptLogN 10 keeps key creation at a few ms, so thousand-iteration tests fit the suite budget. */
export async function startBunkerServer(opts: StartOptions & { config?: Record<string, unknown>; adminSk?: Uint8Array } = {}): Promise<BunkerServer> {
  const adminSk = opts.adminSk ?? generateSecretKey()
  const dir = tempDir()
  const config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({ bunker: { scryptLogN: 10, aclTimeoutSeconds: 1 }, ...opts.config }))
  const server = await startServerProcess({ ...opts, waitForBunker: true, args: ['--config', config, '--admin', getPublicKey(adminSk), ...(opts.args ?? [])] })
  const bunker = await parseBunkerInput(server.bunkerUri!)
  if (!bunker) throw new Error(`cannot parse ${server.bunkerUri}`)
  return { server, adminSk, adminPk: getPublicKey(adminSk), bunker }
}

export interface AdminClient {
  call(method: string, params?: string[]): Promise<string>
  close(): Promise<void>
}

/** The admin RPC over nostr-tools' BunkerSigner (kind 24133, NIP-44). */
export async function bunkerSignerAdmin(b: BunkerServer, pool: SimplePool): Promise<AdminClient> {
  const signer = BunkerSigner.fromBunker(b.adminSk, b.bunker, { pool })
  await withTimeout(signer.connect(), STEP_MS, 'admin connect')
  return {
    call: (method, params = []) => withTimeout(signer.sendRequest(method, params), STEP_MS, `admin ${method}`),
    close: () => signer.close(),
  }
}

export type AclReply = ['always', string?, { kind: string }?] | ['once'] | ['never'] | null

/**
 * Answers the bunker's `acl` questions as an admin would (null: stay silent). Replies in the scheme
 * the question came in.
 */
export function aclResponder(b: BunkerServer, pool: SimplePool, decide: (q: { keyName: string; remotePubkey: string; method: string }) => AclReply) {
  const asked: Array<{ keyName: string; remotePubkey: string; method: string }> = []
  const sub = pool.subscribe(
    b.bunker.relays,
    { kinds: [24134], '#p': [b.adminPk], limit: 0 },
    {
      onevent(e: Event) {
        const nip04ed = e.content.includes('?iv=')
        const text = nip04ed ? nip04.decrypt(b.adminSk, e.pubkey, e.content) : nip44.decrypt(e.content, nip44.getConversationKey(b.adminSk, e.pubkey))
        const req = JSON.parse(text) as { id: string; method: string; params: string[] }
        if (req.method !== 'acl') return
        const q = JSON.parse(req.params[0])
        asked.push(q)
        const answer = decide(q)
        if (!answer) return
        const body = JSON.stringify({ id: req.id, result: JSON.stringify(answer) })
        const content = nip04ed ? nip04.encrypt(b.adminSk, e.pubkey, body) : nip44.encrypt(body, nip44.getConversationKey(b.adminSk, e.pubkey))
        void Promise.all(pool.publish(b.bunker.relays, finalizeEvent({ kind: 24134, created_at: now(), tags: [['p', e.pubkey]], content }, b.adminSk)))
      },
    },
  )
  return { asked, close: () => sub.close() }
}

export function npubToHex(npub: string): string {
  const d = nip19.decode(npub)
  if (d.type !== 'npub') throw new Error(`not an npub: ${npub}`)
  return d.data
}

/** The bunker:// URI a client would build from get_key_tokens' `<npub>#<secret>`. */
export function userBunkerUri(pubkeyHex: string, relay: string, secret?: string): string {
  return `bunker://${pubkeyHex}?relay=${encodeURIComponent(relay)}${secret ? `&secret=${secret}` : ''}`
}

export interface BunkerFixture {
  b: BunkerServer
  pool: SimplePool
  admin: AdminClient
}

/** One server with a bunker and a connected admin for a whole test file; `ready` hands them over. */
export function useBunkerServer(ready: (f: BunkerFixture) => void | Promise<void>): void {
  let f: BunkerFixture | undefined
  beforeAll(async () => {
    const b = await startBunkerServer()
    const pool = await fastPool()
    f = { b, pool, admin: await bunkerSignerAdmin(b, pool) }
    await ready(f)
  })
  afterAll(async () => {
    await f?.admin.close()
    f?.pool.destroy()
    await f?.b.server.stop()
  })
}
