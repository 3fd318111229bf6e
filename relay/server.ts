// The uWebSockets.js transport: WebSocket lifecycle and backpressure, NIP-11 and small HTTP routes.
// URL paths map to relay instances, so one port can serve several relays.
import { createRequire } from 'node:module'
import type * as UWS from 'uWebSockets.js'
import { addressKey, forwardedAddress } from './address.ts'
import { createAddressBudget } from './policy/address-budget.ts'
import { firstRejection } from './hooks.ts'
import type { Relay, Session } from './relay.ts'

const require = createRequire(import.meta.url)
const uws = require('uWebSockets.js') as typeof UWS

/**
 * The unofficial uWS package silently falls back to a slow pure-JS server when its native binary
 * cannot load. We compare the loaded module with the binary itself to know which one runs.
 */
export function uwsBuild(): 'native' | 'fallback' {
  try {
    const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
    return require(binary) === uws ? 'native' : 'fallback'
  } catch {
    return 'fallback'
  }
}

export interface HttpReply {
  status?: string
  contentType: string
  body: string
  /** Further response headers (Location, Set-Cookie, security headers). */
  headers?: ReadonlyArray<readonly [string, string]>
}

/** What an HTTP route may read of its request (uWS requests are gone once the handler returns). */
export interface HttpRequestInfo {
  /** The query string, without `?`; empty when none. */
  query: string
  host: string
}

/** What a prefix route reads: the request with its headers copied and its body read (bounded). */
export interface HttpRouteRequest extends HttpRequestInfo {
  /** Lower case, as uWS reports it. */
  method: string
  path: string
  /** A request header by lower-case name, '' when absent. */
  header(name: string): string
  body: string
}

/**
 * Routes for a path and everything under it (`/approve` serves `/approve` and `/approve/...`), any
 * method. A body longer than `maxBodyBytes` is answered 413 without being read further. Their
 * replies carry no CORS headers: they are pages for a browser, not an API for other origins.
 */
export interface PrefixRoute {
  prefix: string
  maxBodyBytes: number
  handle(req: HttpRouteRequest): HttpReply | Promise<HttpReply>
}

/** A POST to a relay's own URL (NIP-86 management), its body read whole within `maxPostBytes`. */
export interface RelayPost {
  /** The URL path, query string (without `?`) and the headers a handler may need. */
  path: string
  query: string
  host: string
  contentType: string
  authorization: string
  body: Buffer
}

export interface ServerOptions {
  host: string
  port: number
  /** Relay serving a URL path ("/" for the default relay), or undefined for 404. */
  route: (path: string) => Relay | undefined
  /** Answers POSTs to a relay's URL; absent: 405. */
  relayPost?: (relay: Relay, req: RelayPost) => HttpReply | Promise<HttpReply>
  /** Largest POST body read (default 64 KiB); a larger one gets 413 unread. */
  maxPostBytes?: number
  /** Extra HTTP GET routes by exact path (/metrics, /healthz, ...). */
  http?: Record<string, (req: HttpRequestInfo) => HttpReply | Promise<HttpReply>>
  /** Routes for a path prefix, any method, bounded body (the approval page). */
  prefixRoutes?: PrefixRoute[]
  /**
   * Hard cap on a frame: uWS reads the length from the frame header and closes the connection
   * before buffering a byte more; a stalled partial frame holds at most this much. Below
   * it, relay limits answer politely.
   */
  hardMaxPayload?: number
  /**
   * Open connections, all together and from one address (an IPv6 /64); above either an upgrade is
   * refused with 503 or 429. With the payload cap they bound unread input: a stalled partial frame
   * per connection, so at most maxConnectionsPerIp x hardMaxPayload per address and
   * maxConnections x hardMaxPayload in all.
   */
  maxConnections?: number
  maxConnectionsPerIp?: number
  /**
   * Work one address may make the process do, process-wide (every relay, every connection of it):
   * EVENTs a second (each is a signature check) and input bytes a second (each frame is parsed
   * before anything can refuse it), each with bursts of two seconds' worth; 0 or absent: no bound.
   */
  maxEventsPerSecondPerIp?: number
  maxInputBytesPerSecondPerIp?: number
  /** Header naming the client's address, set by a reverse proxy in front (x-forwarded-for, x-real-ip). */
  clientIpHeader?: string
}

export interface RunningServer {
  host: string
  port: number
  build: 'native' | 'fallback'
  close(): void
}

interface SocketData {
  relay: Relay
  ip: string
  /** What the connection counts against in the per-address limit. */
  addressKey: string
  session?: Session
  closed: boolean
  /** When this socket was last told its input is over budget (told at most once a second). */
  throttledAt: number
}

const CORS = [
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Headers', '*, Authorization'], // `*` does not cover Authorization (NIP-98 from a browser)
  ['Access-Control-Allow-Methods', 'GET, POST, OPTIONS'],
] as const

const normalisePath = (url: string): string => (url.length > 1 ? url.replace(/\/+$/, '') || '/' : '/')
const decoder = new TextDecoder()

function reply(res: UWS.HttpResponse, r: HttpReply, cors = true, closeConnection = false): void {
  res.writeStatus(r.status ?? '200 OK')
  if (cors) for (const [k, v] of CORS) res.writeHeader(k, v)
  for (const [k, v] of r.headers ?? []) res.writeHeader(k, v)
  res.writeHeader('Content-Type', r.contentType).end(r.body, closeConnection)
}

const TOO_LARGE: HttpReply = { status: '413 Payload Too Large', contentType: 'text/plain', body: 'request body too large\n' }
const FAILED: HttpReply = { status: '500 Internal Server Error', contentType: 'text/plain', body: 'error' }

const underPrefix = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`)

/** Copies what the handler may read: uWS requests are gone once this callback returns. */
function copyHeaders(req: UWS.HttpRequest): Map<string, string> {
  const headers = new Map<string, string>()
  req.forEach((k, v) => {
    const before = headers.get(k)
    headers.set(k, before === undefined ? v : `${before}${k === 'cookie' ? '; ' : ', '}${v}`)
  })
  return headers
}

/** Reads the body up to `max` bytes; calls `done` once, with undefined when it is longer. */
function readBody(res: UWS.HttpResponse, max: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  res.onData((chunk, isLast) => {
    if (over) return
    size += chunk.byteLength
    if (size > max) {
      over = true
      return done(undefined)
    }
    chunks.push(Buffer.from(chunk.slice(0))) // uWS neuters the chunk when this returns
    if (isLast) done(Buffer.concat(chunks))
  })
}

function servePrefixRoute(route: PrefixRoute, path: string, res: UWS.HttpResponse, req: UWS.HttpRequest): void {
  let aborted = false
  res.onAborted(() => (aborted = true))
  const headers = copyHeaders(req)
  const method = req.getMethod()
  const base = { query: req.getQuery() ?? '', host: req.getHeader('host'), method, path, header: (name: string) => headers.get(name) ?? '' }
  const send = (r: HttpReply, close = false): void => {
    if (!aborted) res.cork(() => reply(res, r, false, close))
  }
  if (Number(headers.get('content-length') ?? 0) > route.maxBodyBytes) return send(TOO_LARGE, true)
  const run = (body: Buffer | undefined) => {
    if (body === undefined) return send(TOO_LARGE, true)
    Promise.resolve({ ...base, body: body.toString('utf8') })
      .then((r) => route.handle(r))
      .then(send, () => send(FAILED))
  }
  if (method === 'get' || method === 'head') return run(Buffer.alloc(0))
  readBody(res, route.maxBodyBytes, run)
}

function serveHttp(opts: ServerOptions, res: UWS.HttpResponse, req: UWS.HttpRequest): void {
  const path = normalisePath(req.getUrl())
  const method = req.getMethod()
  const prefixed = opts.prefixRoutes?.find((r) => underPrefix(path, r.prefix))
  if (prefixed) return servePrefixRoute(prefixed, path, res, req)
  if (method === 'options')
    return void res
      .writeStatus('204 No Content')
      .writeHeader(CORS[0][0], CORS[0][1])
      .writeHeader(CORS[1][0], CORS[1][1])
      .writeHeader(CORS[2][0], CORS[2][1])
      .end()
  const extra = opts.http?.[path]
  if (extra) {
    let aborted = false
    res.onAborted(() => (aborted = true))
    const info: HttpRequestInfo = { query: req.getQuery() ?? '', host: req.getHeader('host') }
    Promise.resolve(info)
      .then(extra)
      .then(
        (r) => !aborted && res.cork(() => reply(res, r)),
        () => !aborted && res.cork(() => reply(res, FAILED)),
      )
    return
  }
  const relay = opts.route(path)
  if (!relay) return reply(res, { status: '404 Not Found', contentType: 'text/plain', body: 'not found' })
  if (method === 'post') return servePost(opts, relay, path, res, req)
  if (req.getHeader('accept').includes('application/nostr+json'))
    return reply(res, { contentType: 'application/nostr+json', body: JSON.stringify(relay.info()) })
  reply(res, { contentType: 'text/plain', body: 'This is a Nostr relay: connect with a WebSocket client.\n' })
}

const TEXT = 'text/plain'

/** A close frame's reason holds at most 123 bytes of UTF-8; cut at a character, not inside one. */
function closeReason(text: string): string {
  let s = text
  while (Buffer.byteLength(s) > 123) s = s.slice(0, -1)
  return s
}

/** Reads a POST body within the bound, then hands it to the relay's handler. */
function servePost(opts: ServerOptions, relay: Relay, path: string, res: UWS.HttpResponse, req: UWS.HttpRequest): void {
  if (!opts.relayPost) return reply(res, { status: '405 Method Not Allowed', contentType: TEXT, body: 'method not allowed' })
  const max = opts.maxPostBytes ?? 64 * 1024
  const declared = Number(req.getHeader('content-length') || '0')
  if (!(declared <= max)) return reply(res, { status: '413 Payload Too Large', contentType: TEXT, body: `body larger than ${max} bytes` })
  const handler = opts.relayPost
  const head = {
    path,
    query: req.getQuery() ?? '',
    host: req.getHeader('host'),
    contentType: req.getHeader('content-type'),
    authorization: req.getHeader('authorization'),
  }
  let done = false
  res.onAborted(() => (done = true))
  readBody(res, max, (body) => {
    if (done) return
    if (body === undefined) {
      done = true
      return void res.cork(() => reply(res, { status: '413 Payload Too Large', contentType: TEXT, body: `body larger than ${max} bytes` }))
    }
    Promise.resolve({ ...head, body })
      .then((post) => handler(relay, post))
      .then(
        (r) => !done && res.cork(() => reply(res, r)),
        () => !done && res.cork(() => reply(res, { status: '500 Internal Server Error', contentType: TEXT, body: 'error' })),
      )
      .finally(() => (done = true))
  })
}

/** Open connections per address key, and the answer to one more. */
function createAdmission(maxTotal: number, maxPerAddress: number) {
  const perAddress = new Map<string, number>()
  let total = 0
  return {
    refusal(key: string): string | undefined {
      if (total >= maxTotal) return '503 Service Unavailable'
      if ((perAddress.get(key) ?? 0) >= maxPerAddress) return '429 Too Many Requests'
      return undefined
    },
    add(key: string): void {
      total++
      perAddress.set(key, (perAddress.get(key) ?? 0) + 1)
    },
    remove(key: string): void {
      total--
      const n = (perAddress.get(key) ?? 1) - 1
      if (n > 0) perAddress.set(key, n)
      else perAddress.delete(key)
    },
  }
}

const REFUSALS: Record<string, string> = {
  '503 Service Unavailable': 'rate-limited: the relay has too many connections, try later\n',
  '429 Too Many Requests': 'rate-limited: too many connections from your address\n',
}

export function startServer(opts: ServerOptions): Promise<RunningServer> {
  const app = uws.App()
  const hardMax = opts.hardMaxPayload ?? 1024 * 1024
  const open = new Set<UWS.WebSocket<SocketData>>()
  const admission = createAdmission(opts.maxConnections ?? Number.POSITIVE_INFINITY, opts.maxConnectionsPerIp ?? Number.POSITIVE_INFINITY)
  const ipHeader = opts.clientIpHeader?.toLowerCase()
  // short bursts: a burst is work done back to back, which everyone else waits behind
  const BURST_SECONDS = 2
  const eventBudget = createAddressBudget(opts.maxEventsPerSecondPerIp ?? 0, (opts.maxEventsPerSecondPerIp ?? 0) * BURST_SECONDS)
  const inputBudget = createAddressBudget(opts.maxInputBytesPerSecondPerIp ?? 0, (opts.maxInputBytesPerSecondPerIp ?? 0) * BURST_SECONDS)

  app.ws<SocketData>('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: hardMax,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    maxBackpressure: 64 * 1024 * 1024, // per-relay limits close slow sockets well before this
    upgrade(res, req, context) {
      const relay = opts.route(normalisePath(req.getUrl()))
      if (!relay) return void res.writeStatus('404 Not Found').end('no relay at this path')
      const socketIp = decoder.decode(res.getRemoteAddressAsText())
      const ip = ipHeader ? forwardedAddress(req.getHeader(ipHeader), socketIp) : socketIp
      const barred = firstRejection(relay.hooks.rejectConnection, ip)
      if (barred) return void res.writeStatus('403 Forbidden').writeHeader('Content-Type', TEXT).end(`${barred}\n`)
      const key = addressKey(ip)
      const refused = admission.refusal(key)
      if (refused) return void res.writeStatus(refused).writeHeader('Retry-After', '10').writeHeader('Content-Type', 'text/plain').end(REFUSALS[refused])
      res.upgrade<SocketData>(
        { relay, ip, addressKey: key, closed: false, throttledAt: 0 },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      )
    },
    open(ws) {
      open.add(ws)
      admission.add(ws.getUserData().addressKey) // uWS opens inside upgrade(): no other upgrade runs between the check and this
      const data = ws.getUserData()
      const maxBuffered = data.relay.limits.maxBufferedBytes
      data.session = data.relay.attach({
        ip: data.ip,
        send(frame) {
          if (data.closed) return
          // Corked: a send from another socket's callback or a promise continuation must not land
          // in whatever socket uWS currently has corked.
          ws.cork(() => ws.send(frame, false))
          if (!data.closed && ws.getBufferedAmount() > maxBuffered) ws.end(1008, 'slow consumer: too much unsent data')
        },
        close(reason) {
          if (!data.closed) ws.end(1001, closeReason(reason ?? 'relay shutting down'))
        },
        buffered: () => (data.closed ? 0 : ws.getBufferedAmount()),
        admitEvent: () => eventBudget.take(data.addressKey, 1, Date.now()),
      })
    },
    drain(ws) {
      // Paused streams of stored events go on from here (relay/stream.ts).
      const data = ws.getUserData()
      if (!data.closed) data.session?.drain()
    },
    message(ws, message, isBinary) {
      const data = ws.getUserData()
      if (isBinary) return data.session!.receive('binary', 0) // answered with a NOTICE: not JSON
      const now = Date.now()
      if (!inputBudget.take(data.addressKey, message.byteLength, now)) {
        // dropped unread: parsing it is the cost being bounded; a flood gets one NOTICE a second
        if (now - data.throttledAt >= 1000) {
          data.throttledAt = now
          data.session!.notice('rate-limited: too much input from your address; frames are being dropped')
        }
        return
      }
      data.session!.receive(decoder.decode(message), message.byteLength)
    },
    close(ws) {
      open.delete(ws)
      const data = ws.getUserData()
      admission.remove(data.addressKey)
      data.closed = true
      data.session?.detach()
    },
  })
  app.any('/*', (res, req) => serveHttp(opts, res, req))

  return new Promise((resolve, reject) => {
    app.listen(opts.host, opts.port, (token) => {
      if (!token) return reject(new Error(`cannot listen on ${opts.host}:${opts.port}`))
      resolve({
        host: opts.host,
        port: uws.us_socket_local_port(token as unknown as UWS.us_socket),
        build: uwsBuild(),
        close() {
          uws.us_listen_socket_close(token)
          for (const ws of [...open]) if (!ws.getUserData().closed) ws.end(1001, 'relay shutting down')
        },
      })
    })
  })
}
