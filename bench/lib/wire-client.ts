// A small Nostr client on one `ws` socket for the soak's load processes: EVENT with its OK, REQ to
// EOSE, COUNT, and NIP-46 requests (as any number of identities) answered over one reply
// subscription. Crypto on the bunker's own fast path (libsecp256k1, cached conversation keys) so the
// load processes stay cheap. Every wait is bounded and ends early when the socket closes.
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { createCipher, type Scheme } from '../../plugin/bunker/crypto.ts'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'
import type { NostrEvent } from '../../relay/relay.ts'

export interface Identity {
  sk: Uint8Array
  pk: string
}

export const newIdentity = (sk: Uint8Array = randomBytes(32)): Identity => ({ sk, pk: publicKeyOf(sk) })
export const seconds = (): number => Math.floor(Date.now() / 1000)

/** What became of an EVENT, a REQ, a COUNT or a NIP-46 request. */
export interface Answer {
  /** ok/refused: the relay's OK; eose/closed/count: a REQ's or COUNT's end; result/error: a NIP-46 reply. */
  outcome: 'ok' | 'refused' | 'eose' | 'closed' | 'count' | 'result' | 'error' | 'timeout' | 'gone'
  /** The OK or CLOSED message, the reply's result or error text. */
  text: string
  ms: number
  /** REQ: events received before EOSE; COUNT: the count. */
  n: number
  ids?: string[]
}

export interface WireClient {
  readonly ws: WebSocket
  isOpen(): boolean
  readonly closed: Promise<void>
  /** Bytes queued in this process, not yet written to the socket. */
  buffered(): number
  publish(event: NostrEvent, timeoutMs?: number): Promise<Answer>
  /** Sends a REQ and waits for its EOSE or CLOSED; the subscription stays open unless `close`. */
  req(subId: string, filters: object[], opts?: { timeoutMs?: number; close?: boolean; collectIds?: boolean }): Promise<Answer>
  /** Sends a prebuilt REQ frame (say a 500 KB one) for `subId`, and waits as `req` does. */
  reqFrame(subId: string, frame: string, timeoutMs?: number): Promise<Answer>
  count(subId: string, filters: object[], timeoutMs?: number): Promise<Answer>
  /** Replaces the reply subscription: kinds 24133/24134 p-tagged to these identities. */
  listen(ids: Identity[]): void
  /** A NIP-46 request as `from` to `to`; `event` receives the signed request (to replay it later). */
  request(from: Identity, to: string, method: string, params: string[], opts?: RequestOptions): Promise<Answer>
  /** Waits for a reply to request `id` addressed to `to` (say, a second reply to a replayed request). */
  awaitReply(to: Identity, id: string, timeoutMs: number): Promise<Answer>
  /** Live events of subscriptions past their EOSE, other than NIP-46 replies. */
  onLive(handler: (subId: string, event: NostrEvent) => void): void
  close(): void
  terminate(): void
}

export interface RequestOptions {
  /** The request id (random when absent). */
  id?: string
  kind?: number
  scheme?: Scheme
  timeoutMs?: number
  event?: (e: NostrEvent) => void
}

const cipher = createCipher()
const elapsed = (t0: number): number => performance.now() - t0

/**
 * Connects (bounded by `timeoutMs`); rejects when the relay cannot be reached. `from` picks the
 * local address (127.0.0.2 for the hostile clients, so that per-IP limits can tell them apart).
 */
export function openClient(url: string, timeoutMs = 10_000, from?: string): Promise<WireClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, localAddress: from })
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () => {
      ws.off('error', reject)
      resolve(wrap(ws))
    })
  })
}

type Finish = (a: Omit<Answer, 'ms'>) => void

function wrap(ws: WebSocket): WireClient {
  const oks = new Map<string, Finish>()
  const subs = new Map<string, { finish: Finish; n: number; ids?: string[] }>()
  const replies = new Map<string, Finish>()
  const identities = new Map<string, Identity>()
  let live: (subId: string, e: NostrEvent) => void = () => {}
  let open = true
  let endClosed: () => void = () => {}
  const closed = new Promise<void>((r) => (endClosed = r))
  ws.on('error', () => {}) // a close follows
  ws.on('close', () => {
    open = false
    const gone = { outcome: 'gone' as const, text: 'socket closed', n: 0 }
    for (const f of [...oks.values(), ...replies.values()]) f(gone)
    for (const s of [...subs.values()]) s.finish(gone)
    endClosed()
  })

  function reply(e: NostrEvent): boolean {
    const p = e.tags.find((t) => t[0] === 'p')?.[1]
    const me = p === undefined ? undefined : identities.get(p)
    if (!me) return false
    let msg: { id?: string; result?: string; error?: string }
    try {
      msg = JSON.parse(cipher.decrypt(e.content.includes('?iv=') ? 'nip04' : 'nip44', me.sk, me.pk, e.pubkey, e.content))
    } catch {
      return true
    }
    const f = replies.get(`${me.pk}:${msg.id}`)
    if (f && msg.result === 'auth_url') return true // the real reply follows
    f?.(msg.error ? { outcome: 'error', text: msg.error, n: 0 } : { outcome: 'result', text: String(msg.result), n: 0 })
    return true
  }

  ws.on('message', (data) => {
    const text = data.toString()
    let m: unknown[]
    try {
      m = JSON.parse(text)
    } catch {
      return
    }
    const [verb, a, b, c] = m as [string, string, unknown, unknown]
    if (verb === 'OK') oks.get(a)?.({ outcome: b === true ? 'ok' : 'refused', text: String(c ?? ''), n: 0 })
    else if (verb === 'EVENT') {
      const s = subs.get(a)
      const e = b as NostrEvent
      if (s) {
        s.n++
        s.ids?.push(e.id)
      } else if (!((e.kind === 24133 || e.kind === 24134) && reply(e))) live(a, e)
    } else if (verb === 'EOSE') {
      const s = subs.get(a)
      s?.finish({ outcome: 'eose', text: '', n: s.n, ids: s.ids })
    } else if (verb === 'CLOSED') subs.get(a)?.finish({ outcome: 'closed', text: String(b ?? ''), n: 0 })
    else if (verb === 'COUNT') subs.get(a)?.finish({ outcome: 'count', text: '', n: Number((b as { count?: number })?.count) })
  })

  /** Hands `register` the one way to finish, bounded by `timeoutMs`; resolves with the answer. */
  function wait(register: (f: Finish) => void, unregister: () => void, timeoutMs: number): Promise<Answer> {
    const t0 = performance.now()
    return new Promise((resolve) => {
      let done = false
      const finish: Finish = (a) => {
        if (done) return
        done = true
        clearTimeout(timer)
        unregister()
        resolve({ ...a, ms: elapsed(t0) })
      }
      const timer = setTimeout(() => finish({ outcome: 'timeout', text: '', n: 0 }), timeoutMs)
      if (!open) return finish({ outcome: 'gone', text: 'socket closed', n: 0 })
      register(finish)
    })
  }

  const send = (frame: string) => {
    if (open && ws.readyState === WebSocket.OPEN) ws.send(frame)
  }

  function publish(event: NostrEvent, timeoutMs = 10_000): Promise<Answer> {
    return wait(
      (f) => {
        oks.set(event.id, f)
        send(JSON.stringify(['EVENT', event]))
      },
      () => oks.delete(event.id),
      timeoutMs,
    )
  }

  function reqFrame(subId: string, frame: string, timeoutMs = 10_000, collectIds = false): Promise<Answer> {
    return wait(
      (finish) => {
        subs.set(subId, { finish, n: 0, ids: collectIds ? [] : undefined })
        send(frame)
      },
      () => subs.delete(subId),
      timeoutMs,
    )
  }

  return {
    ws,
    isOpen: () => open,
    closed,
    buffered: () => ws.bufferedAmount,
    publish,
    async req(subId, filters, opts = {}) {
      const a = await reqFrame(subId, JSON.stringify(['REQ', subId, ...filters]), opts.timeoutMs, opts.collectIds)
      if (opts.close && (a.outcome === 'eose' || a.outcome === 'timeout')) send(JSON.stringify(['CLOSE', subId]))
      return a
    },
    reqFrame: (subId, frame, timeoutMs) => reqFrame(subId, frame, timeoutMs),
    count: (subId, filters, timeoutMs) => reqFrame(subId, JSON.stringify(['COUNT', subId, ...filters]), timeoutMs),
    listen(ids) {
      identities.clear()
      for (const id of ids) identities.set(id.pk, id)
      send(JSON.stringify(['REQ', 'nip46-replies', { kinds: [24133, 24134], '#p': ids.map((i) => i.pk), limit: 0 }]))
    },
    request(from, to, method, params, opts = {}) {
      const id = opts.id ?? randomBytes(8).toString('hex')
      const kind = opts.kind ?? 24133
      const content = cipher.encrypt(opts.scheme ?? 'nip44', from.sk, from.pk, to, JSON.stringify({ id, method, params }))
      const event = signEvent({ kind, created_at: seconds(), tags: [['p', to]], content }, from.sk, from.pk)
      opts.event?.(event)
      const key = `${from.pk}:${id}`
      return wait(
        (finish) => {
          replies.set(key, finish)
          // A refusal by the relay is the answer; an accepted request waits for the bunker's reply.
          void publish(event, opts.timeoutMs).then((a) => a.outcome !== 'ok' && finish(a))
        },
        () => replies.delete(key),
        opts.timeoutMs ?? 10_000,
      )
    },
    awaitReply(to, id, timeoutMs) {
      const key = `${to.pk}:${id}`
      return wait(
        (finish) => replies.set(key, finish),
        () => replies.delete(key),
        timeoutMs,
      )
    },
    onLive(handler) {
      live = handler
    },
    close() {
      if (open) ws.close()
    },
    terminate() {
      ws.terminate()
    },
  }
}
