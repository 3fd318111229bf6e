// A NIP-46 peer over a raw WebSocket, for tests that must control the exact events on the wire:
// capture and replay a request, re-wrap its rpc id in a new event, pipeline hundreds of requests,
// or act at the instant a reply arrives. Signs and encrypts with the project's own libsecp256k1
// path, so floods stay cheap for the test process.
import { generateSecretKey } from 'nostr-tools/pure'
import { createCipher } from '../../plugin/bunker/crypto.ts'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'
import type { NostrEvent } from '../../relay/relay.ts'
import { WebSocket } from '../helpers/clients.ts'

export interface RawReply {
  id: string
  result: string
  error?: string
}

/** A request, or its JSON text (for bodies JSON.stringify cannot make, such as very deep nesting). */
export type Body = { id: string; method: string; params: unknown[] } | string

export interface RawPeer {
  sk: Uint8Array
  pk: string
  ws: WebSocket
  /** Decrypted replies, in arrival order. */
  replies: RawReply[]
  /** Called with each reply as it arrives (before any promise resolves). */
  onReply?: (r: RawReply, count: number) => void
  /** Called with each request sent to us (an `acl` question, when we are an admin). */
  onRequest?: (req: { id: string; method: string; params: string[] }, from: NostrEvent) => void
  /** Answers a request we received, in its kind and scheme (NIP-44 only). */
  answer(to: NostrEvent, body: RawReply): void
  /** A signed, encrypted request event to `to` (not sent). */
  wrap(to: string, body: Body, opts?: { kind?: number; createdAt?: number }): NostrEvent
  /** Sends an event as an EVENT frame. */
  send(event: NostrEvent): void
  /** wrap + send; returns the event. */
  request(to: string, body: Body, opts?: { kind?: number; createdAt?: number }): NostrEvent
  /** Resolves with the reply to rpc id `id` (already received or yet to come). */
  reply(id: string, timeoutMs?: number): Promise<RawReply>
  /** Resolves once `n` replies in all have arrived. */
  until(n: number, timeoutMs?: number): Promise<void>
  close(): void
}

const cipher = createCipher()
const now = () => Math.floor(Date.now() / 1000)

export async function rawPeer(url: string, sk: Uint8Array = generateSecretKey()): Promise<RawPeer> {
  const pk = publicKeyOf(sk)
  const ws = new WebSocket(url)
  const waiters: Array<() => void> = []
  const peer: RawPeer = {
    sk,
    pk,
    ws,
    replies: [],
    wrap(to, body, opts = {}) {
      const content = cipher.encrypt('nip44', sk, pk, to, typeof body === 'string' ? body : JSON.stringify(body))
      return signEvent({ kind: opts.kind ?? 24133, created_at: opts.createdAt ?? now(), tags: [['p', to]], content }, sk, pk)
    },
    send: (event) => ws.send(JSON.stringify(['EVENT', event])),
    request(to, body, opts) {
      const e = peer.wrap(to, body, opts)
      peer.send(e)
      return e
    },
    answer: (to, body) => peer.send(peer.wrap(to.pubkey, JSON.stringify(body), { kind: to.kind })),
    reply: (id, timeoutMs = 5000) => waitFor(() => peer.replies.find((r) => r.id === id), timeoutMs, `reply ${id}`),
    until: (n, timeoutMs = 5000) =>
      waitFor(() => peer.replies.length >= n || undefined, timeoutMs, `${n} replies (have ${peer.replies.length})`).then(() => {}),
    close: () => ws.close(),
  }
  function waitFor<T>(found: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const hit = found()
    if (hit !== undefined) return Promise.resolve(hit)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1)
        reject(new Error(`timed out waiting for ${what}`))
      }, timeoutMs)
      const check = () => {
        const v = found()
        if (v === undefined) return
        clearTimeout(t)
        waiters.splice(waiters.indexOf(check), 1)
        resolve(v)
      }
      waiters.push(check)
    })
  }
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as unknown[]
    if (f[0] !== 'EVENT') return
    const e = f[2] as NostrEvent
    const r = JSON.parse(cipher.decrypt(e.content.includes('?iv=') ? 'nip04' : 'nip44', sk, pk, e.pubkey, e.content)) as RawReply
    if (!('result' in r)) return peer.onRequest?.(r as unknown as { id: string; method: string; params: string[] }, e)
    peer.replies.push(r)
    peer.onReply?.(r, peer.replies.length)
    for (const w of [...waiters]) w()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => resolve())
  })
  ws.on('error', () => {}) // a killed server resets the socket: tests look at the replies instead
  ws.send(JSON.stringify(['REQ', 'replies', { kinds: [24133, 24134], '#p': [pk], limit: 0 }]))
  // the REQ is handled before any later frame on this socket: no wait for EOSE needed
  return peer
}
