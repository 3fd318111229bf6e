// The bunker's side of the wire: opens an incoming kind 24133/24134 event (replay checks, decrypt,
// parse) and sends replies in the scheme the request used, through the relay's own pipeline.
import { performance } from 'node:perf_hooks'
import { LRUCache } from 'lru-cache'
import type { NostrEvent, Relay } from '../../relay/relay.ts'
import { schemeOf, type Cipher, type Scheme } from './crypto.ts'
import { parseMessage, responseJson, type Message, type Reply } from './rpc.ts'
import { signEvent } from './sign.ts'

export type RelayHost = Pick<Relay, 'subscribe' | 'publish' | 'addNips'>

/** pino-compatible; the bunker never passes it payloads or secrets. */
export interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** A key the bunker answers as: a user key (remote-signer pubkey) or the admin identity. */
export interface Identity {
  name: string
  sk: Uint8Array
  pubkey: string
}

export interface Inbound {
  event: NostrEvent
  identity: Identity
  scheme: Scheme
  msg: Message
  /** performance.now() when the relay handed us the event */
  started: number
}

export interface ChannelDeps {
  relay: RelayHost
  cipher: Cipher
  log: Log
  /** Service time per answered request, in seconds. */
  observe?: (method: string, outcome: 'ok' | 'error', seconds: number) => void
}

export interface Channel {
  /** Undefined for a replayed or unreadable event (logged; nothing can be answered). */
  open(identity: Identity, event: NostrEvent): Inbound | undefined
  answer(inbound: Inbound, method: string, reply: Reply): Promise<void>
  /**
   * Answers a request with what `run` returns, exactly once: a throw becomes "internal error" and
   * is logged, as is a reply that could not be sent.
   */
  respond(inbound: Inbound, method: string, run: () => Reply | Promise<Reply>): void
  /** Answers a message that could not be read as a request but named an id; else stays silent. */
  answerInvalid(inbound: Inbound): void
  send(identity: Identity, to: string, kind: number, scheme: Scheme, json: string): Promise<void>
}

const short = (hex: string): string => hex.slice(0, 12)
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** The error for a request whose created_at is too far from now (replay protection), else undefined. */
export function windowError(event: NostrEvent, windowSeconds: number): Reply | undefined {
  return Math.abs(event.created_at - nowSeconds()) > windowSeconds ? { error: 'request created_at is outside the accepted time window' } : undefined
}

export function createChannel(deps: ChannelDeps): Channel {
  // The relay already refuses a resent event; this also covers one arriving again by another route
  // (a bridged upstream relay, say).
  const seen = new LRUCache<string, true>({ max: 100_000 })

  async function send(identity: Identity, to: string, kind: number, scheme: Scheme, json: string): Promise<void> {
    const content = deps.cipher.encrypt(scheme, identity.sk, identity.pubkey, to, json)
    const event = signEvent({ kind, created_at: nowSeconds(), tags: [['p', to]], content }, identity.sk, identity.pubkey)
    const out = await deps.relay.publish(event, { type: 'local', plugin: 'bunker' }, { signedHere: true })
    if (!out.ok) deps.log.warn({ reason: out.message, to: short(to) }, 'reply refused by the relay')
  }

  async function answer(inbound: Inbound, method: string, reply: Reply): Promise<void> {
    const { msg } = inbound
    const id = msg.type === 'request' ? msg.req.id : msg.type === 'invalid' ? (msg.id ?? '') : msg.res.id
    const sent = send(inbound.identity, inbound.event.pubkey, inbound.event.kind, inbound.scheme, responseJson(id, reply))
    // A signed ephemeral reply is dispatched inside publish() (right after the request itself, when
    // the request is still being dispatched), before its promise settles.
    const seconds = (performance.now() - inbound.started) / 1000
    await sent
    const outcome = 'error' in reply ? 'error' : (reply.outcome ?? 'ok')
    deps.observe?.(method, outcome, seconds)
    deps.log.info(
      {
        id,
        kind: inbound.event.kind,
        method,
        key: inbound.identity.name,
        client: short(inbound.event.pubkey),
        outcome,
        elapsedMs: Math.round(seconds * 1e6) / 1e3,
      },
      'RESPONSE_SENT',
    )
  }

  const internalError = (err: unknown, method: string): Reply => {
    deps.log.error({ err, method }, 'bunker request failed')
    return { error: 'internal error' }
  }

  // Synchronous all the way to the reply when `run` is: a known client's request is answered in the
  // turn it arrived, not after whatever else the event loop has queued.
  function respond(inbound: Inbound, method: string, run: () => Reply | Promise<Reply>): void {
    let reply: Reply | Promise<Reply>
    try {
      reply = run()
    } catch (err) {
      reply = internalError(err, method)
    }
    const replied =
      reply instanceof Promise ? reply.catch((err) => internalError(err, method)).then((r) => answer(inbound, method, r)) : answer(inbound, method, reply)
    replied.catch((err) => deps.log.error({ err, method }, 'bunker reply failed'))
  }

  return {
    open(identity, event) {
      if (seen.has(event.id)) return undefined
      seen.set(event.id, true)
      const started = performance.now()
      const scheme = schemeOf(event.content)
      let text: string
      try {
        text = deps.cipher.decrypt(scheme, identity.sk, identity.pubkey, event.pubkey, event.content)
      } catch {
        deps.log.warn({ kind: event.kind, key: identity.name, client: short(event.pubkey), scheme }, 'REQUEST_UNREADABLE')
        return undefined
      }
      const msg = parseMessage(text)
      if (msg.type === 'request')
        deps.log.info({ id: msg.req.id, kind: event.kind, method: msg.req.method, key: identity.name, client: short(event.pubkey) }, 'REQUEST_IN')
      return { event, identity, scheme, msg, started }
    },
    answer,
    respond,
    answerInvalid(inbound) {
      const { msg } = inbound
      if (msg.type === 'invalid' && msg.id) respond(inbound, 'invalid', () => ({ error: `invalid request: ${msg.reason}` }))
    },
    send,
  }
}
