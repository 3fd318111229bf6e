// The reference relay: @nostr-relay/core (as published on npm) on `ws`, with an in-memory event
// repository indexed by id, author, kind and tag. Usage: reference-relay.ts [seedCount]
// Prints `listening ws://127.0.0.1:<port>` when ready.
import { EventRepository, type Event, type Filter } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { WebSocketServer } from 'ws'
import { dataset } from './dataset.ts'

/** Newest-first lists per index key; a query walks the shortest list that applies. */
class MemoryRepository extends EventRepository {
  private byId = new Map<string, Event>()
  private lists = new Map<string, Event[]>()
  private all: Event[] = []

  isSearchSupported(): boolean {
    return false
  }

  private push(key: string, e: Event): void {
    let list = this.lists.get(key)
    if (!list) this.lists.set(key, (list = []))
    list.push(e) // kept oldest first; walked backwards
  }

  upsert(e: Event) {
    if (this.byId.has(e.id)) return { isDuplicate: true }
    this.byId.set(e.id, e)
    this.all.push(e)
    this.push(`a${e.pubkey}`, e)
    this.push(`k${e.kind}`, e)
    for (const t of e.tags) if (t[0]?.length === 1 && t[1] !== undefined) this.push(`t${t[0]}${t[1]}`, e)
    return { isDuplicate: false }
  }

  /** One index list as is, or several merged back into time order. */
  private union(keys: string[]): Event[] {
    if (keys.length === 1) return this.lists.get(keys[0]) ?? []
    return keys.flatMap((k) => this.lists.get(k) ?? []).sort((a, b) => a.created_at - b.created_at)
  }

  find(filter: Filter): Event[] {
    const limit = filter.limit ?? 100
    if (filter.ids)
      return filter.ids
        .map((id) => this.byId.get(id))
        .filter((e): e is Event => !!e && matches(filter, e))
        .slice(0, limit)
    const candidates: Event[][] = [this.all]
    if (filter.authors) candidates.push(this.union(filter.authors.map((a) => `a${a}`)))
    if (filter.kinds) candidates.push(this.union(filter.kinds.map((k) => `k${k}`)))
    for (const [key, values] of Object.entries(filter)) if (key.startsWith('#')) candidates.push(this.union((values as string[]).map((v) => `t${key[1]}${v}`)))
    const source = candidates.reduce((a, b) => (b.length < a.length ? b : a))
    const out: Event[] = []
    for (let i = source.length - 1; i >= 0 && out.length < limit; i--) if (matches(filter, source[i])) out.push(source[i])
    return out
  }

  async destroy(): Promise<void> {}
}

function matches(f: Filter, e: Event): boolean {
  if (f.ids && !f.ids.includes(e.id)) return false
  if (f.authors && !f.authors.includes(e.pubkey)) return false
  if (f.kinds && !f.kinds.includes(e.kind)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const [key, values] of Object.entries(f)) {
    if (!key.startsWith('#')) continue
    if (!e.tags.some((t) => t[0] === key[1] && (values as string[]).includes(t[1]))) return false
  }
  return true
}

const seed = Number(process.argv[2] ?? 0)
const repo = new MemoryRepository()
for (const e of dataset().events(seed)) repo.upsert(e as Event)
const relay = new NostrRelay(repo)
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 })
wss.on('connection', (ws, req) => {
  relay.handleConnection(ws, req.socket.remoteAddress)
  ws.on('message', (data) => {
    let msg: unknown
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    if (Array.isArray(msg)) relay.handleMessage(ws, msg as never).catch(() => {})
  })
  ws.on('close', () => relay.handleDisconnect(ws))
  ws.on('error', () => {})
})
wss.on('listening', () => {
  const { port } = wss.address() as { port: number }
  console.log(`listening ws://127.0.0.1:${port}`)
})
process.on('SIGTERM', () => process.exit(0))
