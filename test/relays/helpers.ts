// Hosted relays in tests: a server whose admin may manage relays, NIP-86 calls signed with NIP-98
// (nostr-tools' getToken, as a management client would make them, or by hand to tamper with one
// field), and raw sockets on a relay's path.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { now, rawClient, type RawClient, WebSocket } from '../helpers/clients.ts'
import { type ServerProcess, startServerProcess, type StartOptions, tempDir } from '../helpers/server.ts'

export interface RelaysServer {
  server: ServerProcess
  adminSk: Uint8Array
  adminPk: string
  /** ws://host:port/nostrrelay/<id> ("" : the default relay). */
  wsUrl(id: string): string
  httpUrl(id: string): string
}

export async function startRelaysServer(opts: StartOptions & { config?: Record<string, unknown> } = {}): Promise<RelaysServer> {
  const adminSk = generateSecretKey()
  const adminPk = getPublicKey(adminSk)
  const config = join(tempDir(), 'config.json')
  const extra = opts.config ?? {}
  const relays = { admins: [adminPk], ...(extra.relays as object | undefined) }
  const bunker = { scryptLogN: 10, aclTimeoutSeconds: 1, ...(extra.bunker as object | undefined) }
  writeFileSync(config, JSON.stringify({ ...extra, bunker, relays }))
  const server = await startServerProcess({ ...opts, args: ['--config', config, ...(opts.args ?? [])] })
  const wsUrl = (id: string) => (id === '' ? server.url : `${server.url}/nostrrelay/${id}`)
  return { server, adminSk, adminPk, wsUrl, httpUrl: (id) => wsUrl(id).replace(/^ws/, 'http') }
}

export interface RpcAnswer {
  status: number
  body: { result?: unknown; error?: string }
}

/** How a test spoils one part of the NIP-98 header. */
export interface Tamper {
  kind?: number
  url?: string
  method?: string
  payload?: string
  createdAt?: number
  omitPayload?: boolean
  header?: string
}

/** A NIP-98 header made by hand, every field as given. */
export function authHeader(sk: Uint8Array, url: string, body: string, t: Tamper = {}): string {
  const tags = [
    ['u', t.url ?? url],
    ['method', t.method ?? 'POST'],
  ]
  if (!t.omitPayload) tags.push(['payload', t.payload ?? createHash('sha256').update(body).digest('hex')])
  const e = finalizeEvent({ kind: t.kind ?? 27235, created_at: t.createdAt ?? now(), tags, content: '' }, sk)
  return `Nostr ${Buffer.from(JSON.stringify(e)).toString('base64')}`
}

export async function post(url: string, body: string, headers: Record<string, string>): Promise<RpcAnswer> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let parsed: RpcAnswer['body'] = {}
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = { error: text }
  }
  return { status: res.status, body: parsed }
}

/** One NIP-86 call as a management client makes it (nostr-tools' NIP-98 token with the payload hash). */
export async function rpc(url: string, sk: Uint8Array, method: string, params: unknown[] = []): Promise<RpcAnswer> {
  const payload = { method, params }
  const token = await getToken(url, 'POST', (e) => finalizeEvent(e, sk), true, payload)
  return post(url, JSON.stringify(payload), { 'Content-Type': 'application/nostr+json+rpc', Authorization: token })
}

/** An NIP-86 call that must succeed: its result. */
export async function call(url: string, sk: Uint8Array, method: string, params: unknown[] = []): Promise<unknown> {
  const a = await rpc(url, sk, method, params)
  if (a.status !== 200 || a.body.error) throw new Error(`${method} failed: ${a.status} ${JSON.stringify(a.body)}`)
  return a.body.result
}

/** Creates a relay through NIP-86 on "/" as the global admin. */
export async function createRelay(s: RelaysServer, id: string, relay: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return (await call(s.httpUrl(''), s.adminSk, 'createrelay', [id, relay])) as Record<string, unknown>
}

export async function nip11(url: string): Promise<{ status: number; doc: Record<string, unknown>; cors: string | null }> {
  const res = await fetch(url.replace(/^ws/, 'http'), { headers: { Accept: 'application/nostr+json' }, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  return { status: res.status, doc: res.ok ? JSON.parse(text) : {}, cors: res.headers.get('access-control-allow-origin') }
}

/** Opens a WebSocket; resolves with the open socket, or with the HTTP status that refused it. */
export function upgrade(url: string): Promise<WebSocket | number> {
  const ws = new WebSocket(url)
  return new Promise((resolve) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', () => resolve(-1))
  })
}

export { rawClient, type RawClient }

/** Waits for OK of an EVENT sent on a raw socket. */
export async function publish(c: RawClient, event: { id: string }): Promise<[boolean, string]> {
  const from = c.frames.length
  c.send(['EVENT', event])
  const f = await c.next((x) => x[0] === 'OK' && x[1] === event.id, 10_000, from)
  return [f[2] as boolean, f[3] as string]
}

/** REQ on a raw socket: the stored events' ids until EOSE, or the CLOSED reason. */
export async function query(
  c: RawClient,
  filters: Record<string, unknown>[],
  subId = `q${Math.random().toString(36).slice(2, 8)}`,
): Promise<{ ids: string[]; closed?: string }> {
  const from = c.frames.length
  c.send(['REQ', subId, ...filters])
  const end = await c.next((x) => (x[0] === 'EOSE' || x[0] === 'CLOSED') && x[1] === subId, 10_000, from)
  const ids = c.frames
    .slice(from)
    .filter((x) => x[0] === 'EVENT' && x[1] === subId)
    .map((x) => (x[2] as { id: string }).id)
  c.send(['CLOSE', subId])
  return end[0] === 'CLOSED' ? { ids, closed: end[2] as string } : { ids }
}

/** Answers the connection's AUTH challenge with a kind 22242 EVENT (as LNbits clients do) naming `relayTag`. */
export async function authAsEvent(c: RawClient, sk: Uint8Array, relayTag: string): Promise<[boolean, string]> {
  const challenge = (await c.next((x) => x[0] === 'AUTH', 10_000))[1] as string
  const e = finalizeEvent(
    {
      kind: 22242,
      created_at: now(),
      tags: [
        ['relay', relayTag],
        ['challenge', challenge],
      ],
      content: '',
    },
    sk,
  )
  return publish(c, e)
}
