// A small test relay in its own process, for what real relays do to a bunker that waits for nothing:
// on connections whose URL carries `?lazy=1`, a REQ becomes live only `--req-delay-ms` after it
// arrives. `--eose late` sends its EOSE then (a slow relay: waiting for EOSE is enough); `--eose
// early` sends it at once (a relay whose EOSE comes before its listener: only a probe tells).
// `--store` keeps every event, ephemeral ones too, so a REQ with `since` replays them (as relays that
// store kind 24133 do). On lazy connections, `--auth all|events` demands NIP-42 before REQs and
// EVENTs, or EVENTs only (CLOSED or OK false `auth-required:` until then; prints `authed <pubkey>`), and `--rate-limit-every N` refuses every
// Nth EVENT with `rate-limited:`. No signature checks but AUTH's. Prints `listening ws://127.0.0.1:<port>`.
// Usage: lazy-relay.ts [--req-delay-ms 300] [--eose late|early] [--store] [--auth all|events] [--rate-limit-every N] [--port P]
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { matchFilters, type Filter } from 'nostr-tools/filter'
import { verifyEvent, type Event } from 'nostr-tools/pure'
import { WebSocketServer, type WebSocket } from 'ws'

const { values } = parseArgs({
  options: {
    'req-delay-ms': { type: 'string' },
    eose: { type: 'string' },
    store: { type: 'boolean' },
    auth: { type: 'string' },
    'rate-limit-every': { type: 'string' },
    port: { type: 'string' },
  },
})
const DELAY = Number(values['req-delay-ms'] ?? 300)
const EARLY = values.eose === 'early'
const RATE_EVERY = Number(values['rate-limit-every'] ?? 0)
const MAX_STORED = 20_000

interface Sub {
  filters: Filter[]
  live: boolean
}
const conns = new Map<WebSocket, Map<string, Sub>>()
const stored: Event[] = []
const ids = new Set<string>()

const send = (ws: WebSocket, frame: unknown[]) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(frame))

function replay(ws: WebSocket, subId: string, filters: Filter[]): void {
  for (const f of filters) {
    const limit = f.limit ?? 500
    if (limit === 0) continue
    const found = stored.filter((e) => matchFilters([f], e)).slice(-limit)
    for (const e of found) send(ws, ['EVENT', subId, e])
  }
}

function onReq(ws: WebSocket, lazy: boolean, subId: string, filters: Filter[]): void {
  const subs = conns.get(ws)!
  const sub: Sub = { filters, live: false }
  subs.set(subId, sub)
  const goLive = () => {
    if (subs.get(subId) !== sub) return // closed or replaced meanwhile
    if (!EARLY || !lazy) replay(ws, subId, filters)
    sub.live = true
    if (!EARLY || !lazy) send(ws, ['EOSE', subId])
  }
  if (!lazy) return goLive()
  if (EARLY) {
    replay(ws, subId, filters)
    send(ws, ['EOSE', subId])
  }
  setTimeout(goLive, DELAY)
}

function onAuth(ws: WebSocket, challenge: string, authed: Set<string>, e: Event): void {
  const ok = e.kind === 22242 && verifyEvent(e) && e.tags.some((t) => t[0] === 'challenge' && t[1] === challenge)
  if (ok) {
    authed.add(e.pubkey)
    console.log(`authed ${e.pubkey}`)
  }
  send(ws, ['OK', e.id, ok, ok ? '' : 'invalid: bad AUTH'])
}

function onEvent(ws: WebSocket, e: Event): void {
  send(ws, ['OK', e.id, true, ''])
  if (ids.has(e.id)) return
  ids.add(e.id)
  if (values.store) {
    stored.push(e)
    if (stored.length > MAX_STORED) ids.delete(stored.shift()!.id)
  }
  for (const [peer, subs] of conns) for (const [subId, sub] of subs) if (sub.live && matchFilters(sub.filters, e)) send(peer, ['EVENT', subId, e])
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port ?? 0), maxPayload: 1024 * 1024 })
wss.on('connection', (ws, req) => {
  const lazy = new URL(req.url ?? '/', 'http://x').searchParams.get('lazy') === '1'
  const challenge = randomBytes(8).toString('hex')
  const authed = new Set<string>()
  const needsAuth = () => lazy && values.auth !== undefined && authed.size === 0
  let events = 0
  conns.set(ws, new Map())
  if (lazy && values.auth) send(ws, ['AUTH', challenge])
  const reqsNeedAuth = values.auth === 'all'
  ws.on('message', (data) => {
    let msg: unknown[]
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    if (!Array.isArray(msg)) return
    if (msg[0] === 'AUTH') return onAuth(ws, challenge, authed, msg[1] as Event)
    if (msg[0] === 'REQ') {
      if (reqsNeedAuth && needsAuth()) return send(ws, ['CLOSED', msg[1], 'auth-required: this relay serves authenticated users'])
      onReq(ws, lazy, String(msg[1]), msg.slice(2) as Filter[])
    } else if (msg[0] === 'CLOSE') conns.get(ws)?.delete(String(msg[1]))
    else if (msg[0] === 'EVENT') {
      const e = msg[1] as Event
      if (needsAuth()) return send(ws, ['OK', e.id, false, 'auth-required: this relay serves authenticated users'])
      if (lazy && RATE_EVERY > 0 && ++events % RATE_EVERY === 0) return send(ws, ['OK', e.id, false, 'rate-limited: slow down'])
      onEvent(ws, e)
    }
  })
  ws.on('close', () => conns.delete(ws))
  ws.on('error', () => {})
})
wss.on('listening', () => {
  const { port } = wss.address() as { port: number }
  console.log(`listening ws://127.0.0.1:${port}`)
})
process.on('SIGTERM', () => process.exit(0))
