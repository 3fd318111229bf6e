// A small test relay in its own process, for what real relays do to a bunker that waits for nothing:
// on connections whose URL carries `?lazy=1`, a REQ becomes live only `--req-delay-ms` after it
// arrives. `--eose late` sends its EOSE then (a slow relay: waiting for EOSE is enough); `--eose
// early` sends it at once (a relay whose EOSE comes before its listener: only a probe tells).
// `--store` keeps every event, ephemeral ones too, so a REQ with `since` replays them (as relays that
// store kind 24133 do). No signature checks. Prints `listening ws://127.0.0.1:<port>`.
// Usage: lazy-relay.ts [--req-delay-ms 300] [--eose late|early] [--store] [--port P]
import { parseArgs } from 'node:util'
import { matchFilters, type Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { WebSocketServer, type WebSocket } from 'ws'

const { values } = parseArgs({
  options: { 'req-delay-ms': { type: 'string' }, eose: { type: 'string' }, store: { type: 'boolean' }, port: { type: 'string' } },
})
const DELAY = Number(values['req-delay-ms'] ?? 300)
const EARLY = values.eose === 'early'
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
  conns.set(ws, new Map())
  ws.on('message', (data) => {
    let msg: unknown[]
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    if (!Array.isArray(msg)) return
    if (msg[0] === 'REQ') onReq(ws, lazy, String(msg[1]), msg.slice(2) as Filter[])
    else if (msg[0] === 'CLOSE') conns.get(ws)?.delete(String(msg[1]))
    else if (msg[0] === 'EVENT') onEvent(ws, msg[1] as Event)
  })
  ws.on('close', () => conns.delete(ws))
  ws.on('error', () => {})
})
wss.on('listening', () => {
  const { port } = wss.address() as { port: number }
  console.log(`listening ws://127.0.0.1:${port}`)
})
process.on('SIGTERM', () => process.exit(0))
