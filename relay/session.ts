// One client connection: its frames are handled strictly in arrival order. A REQ's subscription is
// added synchronously, so a REQ followed at once by an EVENT on the same socket is registered before
// that EVENT can be dispatched (nostr-tools' BunkerSigner depends on it); its stored events and a
// COUNT's answer may take several pages under backpressure (stream.ts).
import { authError, newChallenge } from './auth.ts'
import type { Subscription } from './dispatch.ts'
import { shapeError, type NostrEvent } from './event.ts'
import { countValues, normaliseFilters, type NormFilter } from './filter.ts'
import { deliveryPrevented, firstRejection, type ConnectionInfo, type FilterVerb } from './hooks.ts'
import { ingest, type Pipeline } from './ingest.ts'
import { AUTH_KIND } from './kinds.ts'
import type { Limits } from './limits.ts'
import * as frames from './messages.ts'
import { createStreams, type StreamHost } from './stream.ts'
import { nowSeconds } from './time.ts'
import { checkEvent } from './verify.ts'

/** What the server gives a session: a way to write frames and to hang up. */
export interface Transport {
  readonly ip: string
  send(frame: string): void
  /** `reason` goes in the close frame (the NOTICE before it says more). */
  close(reason?: string): void
  /** Bytes written but not yet sent; streams pause above their high-water mark. 0 when unknown. */
  buffered?(): number
  /** Takes one EVENT from the address's budget (before its signature is checked); false: over it. */
  admitEvent?(): boolean
}

export interface Session {
  readonly info: ConnectionInfo
  /** One text frame; `bytes` is its size on the wire. */
  receive(text: string, bytes: number): void
  /** The socket is gone: drop its subscriptions. */
  detach(): void
  /** The socket sent some of its backlog: paused streams may go on. */
  drain(): void
  /** A NOTICE from the transport (a frame it dropped unread) or the relay (switched off). */
  notice(message: string): void
}

export interface SessionContext {
  pipeline: Pipeline
  limits: Limits
  relayUrls: () => string[]
  /** Running counts over all sessions: stats, and what relay-wide filter policies weigh. */
  counters: { subscriptions: number; reqs: number; filterValues: number }
  /** Filter values held over every relay of the process (the runtime's). */
  held: { filterValues: number }
  /** Stored queries and COUNTs, run in pages (stream.ts). */
  queries: StreamHost
}

let nextId = 1

/** A subscription and the filters and values it holds, given back when it closes. */
interface OpenSub {
  sub: Subscription
  filters: number
  values: number
}

export function openSession(ctx: SessionContext, transport: Transport): Session {
  const { pipeline, limits } = ctx
  const authed = new Set<string>()
  // ConnectionInfo is read-only to hooks; the session keeps its counters current
  const info = { id: nextId++, ip: transport.ip, authed: authed as ReadonlySet<string>, subscriptions: 0, filters: 0, filterValues: 0 }
  const { preventDelivery } = pipeline.hooks
  const subs = new Map<string, OpenSub>()
  const challenge = newChallenge()
  let challengeSent = false
  let open = true

  const send = (frame: string): void => {
    if (open) transport.send(frame)
  }
  const streams = createStreams(
    {
      send,
      buffered: () => transport.buffered?.() ?? 0,
      failed: (subId) => closeSub(subId),
      skip: (json) => preventDelivery.length > 0 && deliveryPrevented(preventDelivery, JSON.parse(json) as NostrEvent, info),
    },
    ctx.queries,
  )

  /**
   * The challenge goes out only once something needs AUTH, just before the refusal that says so:
   * NDK stops sending REQs while a challenge it will not answer is pending.
   */
  function challengeIfNeeded(reason: string): void {
    if (challengeSent || !reason.startsWith('auth-required:')) return
    challengeSent = true
    send(frames.authFrame(challenge))
  }

  function closed(subId: string, reason: string): void {
    challengeIfNeeded(reason)
    send(frames.closedFrame(subId, reason))
  }

  function ok(id: string, accepted: boolean, reason: string): void {
    challengeIfNeeded(reason)
    send(frames.okFrame(id, accepted, reason))
  }

  function openSub(subId: string, filters: NormFilter[]): void {
    const values = countValues(filters)
    // Stored events (and EOSE) go out in pages; live ones wait for EOSE (stream.ts).
    const live = streams.req(subId, filters)
    const sink = (e: NostrEvent, json: string) => {
      if (preventDelivery.length === 0 || !deliveryPrevented(preventDelivery, e, info)) live(e, json)
    }
    subs.set(subId, { sub: pipeline.dispatch.add(filters, sink), filters: filters.length, values })
    info.subscriptions++
    info.filters += filters.length
    info.filterValues += values
    ctx.counters.reqs++
    ctx.counters.subscriptions++
    ctx.counters.filterValues += values
    ctx.held.filterValues += values
  }

  function closeSub(subId: string): void {
    streams.stop(subId)
    const held = subs.get(subId)
    if (!held) return
    pipeline.dispatch.remove(held.sub)
    subs.delete(subId)
    info.subscriptions--
    info.filters -= held.filters
    info.filterValues -= held.values
    ctx.counters.subscriptions--
    ctx.counters.filterValues -= held.values
    ctx.held.filterValues -= held.values
  }

  function filtersOrReason(subId: string, raws: unknown[], verb: FilterVerb): NormFilter[] | undefined {
    const filters = normaliseFilters(raws)
    if (typeof filters === 'string') return void closed(subId, filters)
    const rejected = firstRejection(pipeline.hooks.rejectFilter, filters, info, verb)
    if (rejected) return void closed(subId, rejected)
    return filters
  }

  function onReq(subId: string, raws: unknown[]): void {
    closeSub(subId) // a REQ with a known id replaces that subscription, also when it is refused: CLOSED ends it
    const filters = filtersOrReason(subId, raws, 'REQ')
    if (!filters) return
    openSub(subId, filters)
  }

  function onCount(subId: string, raws: unknown[]): void {
    const filters = filtersOrReason(subId, raws, 'COUNT')
    if (filters) streams.count(subId, filters)
  }

  function onAuth(raw: unknown): void {
    const shape = shapeError(raw)
    const id = (raw as { id?: unknown } | null)?.id
    const okId = typeof id === 'string' ? id : ''
    if (shape) return ok(okId, false, shape)
    const e = raw as NostrEvent
    if (checkEvent(e) !== 'ok') return ok(okId, false, 'invalid: AUTH event does not verify')
    const reason = challengeSent ? authError(e, challenge, ctx.relayUrls(), nowSeconds()) : 'invalid: no AUTH challenge was issued on this connection'
    if (reason) return ok(okId, false, reason)
    const refused = firstRejection(pipeline.hooks.rejectAuth, e, info)
    if (refused) return ok(okId, false, refused)
    authed.add(e.pubkey)
    ok(okId, true, '')
  }

  function onEvent(raw: unknown): void {
    const kind = (raw as { kind?: unknown } | null)?.kind
    if (kind === AUTH_KIND) return onAuth(raw) // LNbits-style AUTH sent as EVENT; never stored or relayed
    const id = (raw as { id?: unknown } | null)?.id
    const okId = typeof id === 'string' ? id : ''
    if (transport.admitEvent && !transport.admitEvent()) return ok(okId, false, 'rate-limited: too many events from your address; slow down')
    ingest(pipeline, raw, { type: 'client', conn: info }).then(
      (out) => ok(okId, out.ok, out.message),
      (err) => {
        pipeline.onError(err, 'ingest')
        ok(okId, false, 'error: internal error')
      },
    )
  }

  /** A refused REQ or COUNT: CLOSED ends the subscription of that id too, if one is open. */
  function refuse(subId: string, verb: string | undefined, reason: string): void {
    if (verb === 'REQ') closeSub(subId)
    closed(subId, reason)
  }

  /** An oversized frame still gets OK false when it is an EVENT with an id, CLOSED when it names a subscription, else a NOTICE. */
  function onOversized(text: string): void {
    const reason = `invalid: message larger than ${limits.maxMessageBytes} bytes`
    const msg = frames.parseClientMessage(text)
    const id = msg.type === 'EVENT' ? (msg.event as { id?: unknown } | null)?.id : undefined
    if (typeof id === 'string') return ok(id, false, reason)
    if (msg.type === 'REQ' || msg.type === 'COUNT') return refuse(msg.subId, msg.type, reason)
    if (msg.type === 'error' && msg.subId !== undefined) return refuse(msg.subId, msg.verb, reason)
    send(frames.noticeFrame(reason))
  }

  for (const hook of pipeline.hooks.onConnect) hook(info)

  return {
    info,
    receive(text, bytes) {
      if (bytes > limits.maxMessageBytes) return onOversized(text)
      const msg = frames.parseClientMessage(text)
      switch (msg.type) {
        case 'EVENT':
          return onEvent(msg.event)
        case 'REQ':
          return onReq(msg.subId, msg.filters)
        case 'COUNT':
          return onCount(msg.subId, msg.filters)
        case 'CLOSE':
          return closeSub(msg.subId)
        case 'AUTH':
          return onAuth(msg.event)
        case 'error':
          // a refused REQ or COUNT that named a subscription id gets CLOSED, anything else a NOTICE
          if (msg.subId !== undefined) return refuse(msg.subId, msg.verb, msg.reason)
          return send(frames.noticeFrame(msg.reason))
      }
    },
    detach() {
      if (!open) return
      open = false
      streams.stopAll()
      for (const subId of [...subs.keys()]) closeSub(subId)
      for (const hook of pipeline.hooks.onDisconnect) hook(info)
    },
    drain: () => streams.drain(),
    notice: (message) => send(frames.noticeFrame(message)),
  }
}
