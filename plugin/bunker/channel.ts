// The bunker's side of the wire: opens an incoming kind 24133/24134 event (replay checks, decrypt,
// parse) and sends replies in the scheme the request used, through the relay's own pipeline.
import { performance } from 'node:perf_hooks'
import type { NostrEvent, Relay } from '../../relay/relay.ts'
import { createAdmission, type Trust } from './admission.ts'
import { schemeOf, type Cipher, type Scheme } from './crypto.ts'
import { parseMessage, responseJson, type Message, type Reply } from './rpc.ts'
import { signEvent } from './sign.ts'
import { createWireStats, defaultWireSettings, type WireSettings, type WireStats } from './wire.ts'

export type RelayHost = Pick<Relay, 'subscribe' | 'publish' | 'addNips'>

/** pino-compatible; the bunker never passes it payloads or secrets. */
export interface Log {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
  debug?(obj: object, msg: string): void
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
  /** Service time per answered request, in seconds. `method` is a known method's name or "other". */
  observe?: (method: string, outcome: 'ok' | 'error', seconds: number) => void
  /** Requests whose created_at is further than this from now are refused (seconds; default 300). */
  windowSeconds?: number
  wire?: Partial<WireSettings>
  stats?: WireStats
}

const FULL_WARNING_EVERY_MS = 10_000

export interface Channel {
  /** Undefined for a replayed or unreadable event (counted; nothing can be answered). */
  open(identity: Identity, event: NostrEvent): Inbound | undefined
  /**
   * For a request (or an invalid message): true when it may be handled, and it is then remembered
   * against replays. Else it has been answered with an error (or dropped) and counted.
   */
  admit(inbound: Inbound, trust: Trust): boolean
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

export function createChannel(deps: ChannelDeps): Channel {
  const stats = deps.stats ?? createWireStats()
  let warnedFullAt = Number.NEGATIVE_INFINITY
  // The relay refuses a resent event too, but it may have forgotten it, and one can arrive again by
  // another route (a bridged upstream relay, say).
  const admission = createAdmission({
    ...defaultWireSettings,
    ...deps.wire,
    windowSeconds: deps.windowSeconds ?? 300,
    stats,
    onFull() {
      if (performance.now() - warnedFullAt < FULL_WARNING_EVERY_MS) return
      warnedFullAt = performance.now()
      deps.log.warn({ refused: stats.refused.memory_full }, 'bunker request memory full: refusing new requests until ids expire')
    },
  })

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
      if (admission.replayed(event.id)) return undefined
      const started = performance.now()
      const scheme = schemeOf(event.content)
      let text: string
      try {
        text = deps.cipher.decrypt(scheme, identity.sk, identity.pubkey, event.pubkey, event.content)
      } catch {
        // debug only: anyone can send garbage to a key, as fast as the relay takes it
        stats.refused.unreadable++
        deps.log.debug?.({ kind: event.kind, key: identity.name, client: short(event.pubkey), scheme }, 'REQUEST_UNREADABLE')
        return undefined
      }
      const msg = parseMessage(text)
      if (msg.type === 'request')
        deps.log.info({ id: msg.req.id, kind: event.kind, method: msg.req.method, key: identity.name, client: short(event.pubkey) }, 'REQUEST_IN')
      return { event, identity, scheme, msg, started }
    },
    admit(inbound, trust) {
      const { msg, event } = inbound
      const rpcId = msg.type === 'request' ? msg.req.id : msg.type === 'invalid' ? msg.id : undefined
      const refused = admission.admit(event, inbound.identity.pubkey, rpcId, trust)
      if (!refused) return true
      deps.log.info({ id: rpcId, kind: event.kind, key: inbound.identity.name, client: short(event.pubkey), reason: refused.reason }, 'REQUEST_REFUSED')
      const { error } = refused
      if (error !== undefined && rpcId !== undefined) respond(inbound, 'refused', () => ({ error }))
      return false
    },
    answer,
    respond,
    answerInvalid(inbound) {
      const { msg } = inbound
      if (msg.type !== 'invalid') return
      stats.refused.malformed++
      if (msg.id) respond(inbound, 'invalid', () => ({ error: `invalid request: ${msg.reason}` }))
    },
    send,
  }
}
