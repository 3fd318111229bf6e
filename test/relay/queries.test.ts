// Large stored results under backpressure, and COUNT from the indexes (issue 8, "Queries materialise
// everything"). Stores are seeded directly through the store's write path, then served by the real
// server; clients are raw `ws` sockets that stop reading when told to.
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import type { NostrEvent } from '../../relay/event.ts'
import { openEnvironment, openStore } from '../../relay/store/store.ts'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { now, rawClient, signed, WebSocket } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** An event for direct seeding: the store does not check signatures and the clients here do not either. */
function fake(pubkey: string, created_at: number, content: string, over: Partial<NostrEvent> = {}): NostrEvent {
  return { id: randomBytes(32).toString('hex'), pubkey, created_at, kind: 1, tags: [], content, sig: '0'.repeat(128), ...over }
}

async function seeded(make: (i: number) => NostrEvent, n: number, config: object): Promise<ServerProcess> {
  const data = tempDir()
  dirs.push(data)
  const env = openEnvironment(data)
  const store = openStore(env)
  for (let i = 0; i < n; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => make(i + k)).map((e) => store.save(e, JSON.stringify(e))))
  await env.close()
  const file = join(data, 'config.json')
  writeFileSync(file, JSON.stringify(config))
  return startServerProcess({ data, args: ['--config', file] })
}

/** A socket recording every frame, with its reading paused and resumed at will. */
async function slowClient(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const frames: unknown[][] = []
  let closeCode: number | undefined
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())))
  ws.on('close', (code) => (closeCode = code))
  await new Promise((r) => ws.once('open', r))
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const end = Date.now() + ms
    while (!pred()) {
      if (closeCode !== undefined) throw new Error(`closed with ${closeCode} while waiting for ${what}`)
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return { ws, frames, until, closeCode: () => closeCode }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ofSub = (frames: unknown[][], verb: string, subId: string) => frames.filter((f) => f[0] === verb && f[1] === subId)

describe('a REQ larger than the slow-consumer bound', () => {
  const sk = generateSecretKey()
  const author = getPublicKey(sk)
  const base = now() - 10_000
  const N = 500
  // 50 KB each, 25 MB in all against a 256 KiB bound; every fifth pair shares a created_at (ties)
  const make = (i: number) => fake(author, base + i - (i % 5 === 1 ? 1 : 0), `${i} ${'x'.repeat(50_000)}`)
  let server: ServerProcess
  let expected: string[] = []

  test('arrives whole, in NIP-01 order, with its EOSE, to a client that reads slowly', async () => {
    const events: NostrEvent[] = []
    server = await seeded(
      (i) => {
        const e = make(i)
        events.push({ ...e, content: '' })
        return e
      },
      N,
      { limits: { maxBufferedBytes: 256 * 1024 } },
    )
    expected = events.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((e) => e.id)
    const c = await slowClient(server.url)
    c.ws.send(JSON.stringify(['REQ', 'big', { authors: [author], limit: N }]))
    c.ws.pause()
    await sleep(1000)
    c.ws.resume()
    await c.until(() => ofSub(c.frames, 'EVENT', 'big').length >= 100, 20_000, '100 events')
    c.ws.pause()
    await sleep(500)
    c.ws.resume()
    await c.until(() => ofSub(c.frames, 'EOSE', 'big').length === 1, 60_000, 'EOSE')
    const got = ofSub(c.frames, 'EVENT', 'big').map((f) => (f[2] as NostrEvent).id)
    expect(got).toEqual(expected)
    expect(c.frames.at(-1)).toEqual(['EOSE', 'big'])
    c.ws.close()
  })

  test('live events that match while it streams come once each, after its EOSE', async () => {
    const c = await slowClient(server.url)
    c.ws.send(JSON.stringify(['REQ', 'big', { authors: [author], limit: N + 10 }]))
    c.ws.pause()
    await sleep(300)
    const pub = await rawClient(server.url)
    // newer than everything stored, and older than everything stored (the stream has yet to reach it)
    const live = [signed({ created_at: now(), content: 'new' }, sk), signed({ created_at: base - 100, content: 'backdated' }, sk)]
    for (const e of live) {
      pub.send(['EVENT', e])
      expect(await pub.next((f) => f[0] === 'OK' && f[1] === e.id)).toEqual(['OK', e.id, true, ''])
    }
    pub.close()
    expect(ofSub(c.frames, 'EOSE', 'big')).toEqual([])
    c.ws.resume()
    await c.until(() => ofSub(c.frames, 'EOSE', 'big').length === 1 && c.frames.length >= N + 3, 60_000, 'EOSE and the live events')
    await sleep(200)
    const ids = c.frames.map((f) => (f[0] === 'EVENT' ? (f[2] as NostrEvent).id : f[0]))
    const eose = ids.indexOf('EOSE')
    expect(ids.slice(0, eose)).toEqual(expected)
    expect(ids.slice(eose + 1).sort()).toEqual(live.map((e) => e.id).sort())
    c.ws.close()
  })

  test('CLOSE mid-stream stops it; the connection serves the next REQ', async () => {
    const c = await slowClient(server.url)
    c.ws.send(JSON.stringify(['REQ', 'big', { authors: [author], limit: N }]))
    c.ws.pause()
    await sleep(500)
    c.ws.send(JSON.stringify(['CLOSE', 'big']))
    c.ws.send(JSON.stringify(['REQ', 'probe', { ids: [expected[N - 1]] }]))
    c.ws.resume()
    await c.until(() => ofSub(c.frames, 'EOSE', 'probe').length === 1, 30_000, 'the probe EOSE')
    const eose = c.frames.findIndex((f) => f[0] === 'EOSE' && f[1] === 'probe')
    expect(ofSub(c.frames, 'EVENT', 'probe').map((f) => (f[2] as NostrEvent).id)).toEqual([expected[N - 1]])
    expect(ofSub(c.frames, 'EVENT', 'big').length).toBeLessThan(N)
    expect(ofSub(c.frames, 'EOSE', 'big')).toEqual([])
    await sleep(300)
    expect(c.frames.slice(eose + 1)).toEqual([])
    c.ws.close()
  })

  test('a disconnect mid-stream frees the stream; the relay goes on', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await slowClient(server.url)
      c.ws.send(JSON.stringify(['REQ', 'big', { authors: [author], limit: N }]))
      c.ws.pause()
      await sleep(200)
      c.ws.terminate()
    }
    const c = await rawClient(server.url)
    c.send(['COUNT', 'n', { authors: [author] }])
    expect(await c.next((f) => f[0] === 'COUNT', 10_000)).toEqual(['COUNT', 'n', { count: N + 2 }])
    c.close()
    expect(await server.stop()).toBe(0)
  })
})

describe('COUNT', () => {
  const big = randomBytes(32).toString('hex')
  const small = randomBytes(32).toString('hex')
  const target = randomBytes(32).toString('hex')
  const base = now() - 10_000
  // 3 MB each: 120 MB of event bodies on few index pages (reading an index page maps its
  // neighbours in the file too, bodies included, so many small events would blur the measure)
  const BIG = 40
  const SMALL = 3000
  let server: ServerProcess

  const make = (i: number): NostrEvent =>
    i < BIG ? fake(big, base + i, 'x'.repeat(3_000_000)) : fake(small, base + i, `${i}`, { kind: i % 2 ? 7 : 1, tags: [['e', target]] })

  /** Peak resident memory of the server since the last reset, in MB. */
  const peakMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) / 1024
  const resetPeak = () => writeFileSync(`/proc/${server.proc.pid}/clear_refs`, '5')

  async function count(filter: object): Promise<unknown> {
    const c = await rawClient(server.url)
    c.send(['COUNT', 'n', filter])
    const f = await c.next((f) => f[0] === 'COUNT' || f[0] === 'CLOSED', 20_000)
    c.close()
    return f[2]
  }

  test('counts from the indexes: 120 MB of matching events do not pass through memory', async () => {
    server = await seeded(make, BIG + SMALL, { query: { countBudget: 1000 } })
    expect(await count({ authors: [small], limit: 5 })).toEqual({ count: 5 }) // warms the paths up
    resetPeak()
    const before = peakMb()
    expect(await count({ authors: [big] })).toEqual({ count: BIG })
    expect(await count({ authors: [big], kinds: [1] })).toEqual({ count: BIG })
    expect(await count({ kinds: [1], until: base + BIG - 1 })).toEqual({ count: BIG })
    expect(peakMb() - before).toBeLessThan(40)
  })

  test('stops at its work budget with approximate: true; a smaller count is exact', async () => {
    const capped = (await count({ authors: [small] })) as { count: number; approximate?: boolean }
    expect(capped.approximate).toBe(true)
    expect(capped.count).toBeGreaterThan(0)
    expect(capped.count).toBeLessThanOrEqual(1000)
    expect(await count({ authors: [small], limit: 10 })).toEqual({ count: 10 })
    // the kind comes from the index value: 400 entries walked under #e, half of them kind 7
    expect(await count({ kinds: [7], '#e': [target], since: base + BIG + SMALL - 400 })).toEqual({ count: 200 })
    expect(await server.stop()).toBe(0)
  })
})
