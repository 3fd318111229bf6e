// Hostile clients (issue 8): what one stranger can make the relay hold is bounded, and the relay
// answers the abuse with refusals while it keeps serving everyone else.
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { rawClient, signed, WebSocket, type RawClient } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'

async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.url.replace('ws://', 'http://')}/metrics`)).text()
  const m = text.match(new RegExp(`^${name}\\{relay="/"\\} (\\d+)$`, 'm'))
  if (!m) throw new Error(`no metric ${name}`)
  return Number(m[1])
}

/** Polls a metric until it satisfies `ok`, for at most `ms`; returns the last reading. */
async function metricUntil(server: ServerProcess, name: string, ok: (v: number) => boolean, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms
  let v = await metric(server, name)
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    v = await metric(server, name)
  }
  return v
}

/** Opens a WebSocket; resolves with the open socket, or with the HTTP status that refused it. */
function upgrade(url: string, opts: { headers?: Record<string, string> } = {}): Promise<WebSocket | number> {
  const ws = new WebSocket(url, opts)
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

const closeAll = (sockets: Array<WebSocket | number>) => {
  for (const s of sockets) if (typeof s !== 'number') s.close()
}

const tagValues = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('with the default limits', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess()
  })
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0)
  })

  test('a filter list over maxFilterValues (5,000) is refused with CLOSED invalid:, for REQ and COUNT', async () => {
    const c = await rawClient(server.url)
    c.send(['REQ', 'ok', { '#t': tagValues(5000, 't'), limit: 0 }])
    expect(await c.next((f) => f[1] === 'ok')).toEqual(['EOSE', 'ok'])
    c.send(['REQ', 'big', { '#t': tagValues(5001, 't'), limit: 0 }])
    expect(await c.next((f) => f[1] === 'big')).toEqual(['CLOSED', 'big', 'invalid: too many values in #t (max 5000)'])
    c.send(['COUNT', 'n', { authors: [], kinds: Array.from({ length: 5001 }, (_, i) => i) }])
    expect(await c.next((f) => f[1] === 'n')).toEqual(['CLOSED', 'n', 'invalid: too many values in kinds (max 5000)'])
    // a long tag value weighs one per 64 characters: 80 values of 4,096 characters are 5,120
    c.send(['REQ', 'long', { '#t': tagValues(80, 'x'.repeat(4090)), limit: 0 }])
    expect(await c.next((f) => f[1] === 'long')).toEqual(['CLOSED', 'long', expect.stringMatching(/^invalid: too many values in #t/)])
    c.close()
  })

  test('the abusive pattern gets refusals, the relay stays responsive, and the dispatch table empties after', async () => {
    const baseSubs = await metricUntil(server, 'nsecrelay_subscriptions', (v) => v === 0)
    const baseEntries = await metric(server, 'nsecrelay_dispatch_entries') // the bunker's own sinks
    expect(baseSubs).toBe(0)
    // the original attack: 6 connections x 50 REQs x 80,000 #t values; here 6 x 10 x 5,000, each
    // connection allowed 20,000 values in all (maxConnectionValues)
    const abusers = await Promise.all(Array.from({ length: 6 }, () => rawClient(server.url)))
    for (const [n, a] of abusers.entries()) for (let i = 0; i < 10; i++) a.send(['REQ', `s${i}`, { '#t': tagValues(5000, `c${n}-${i}-`), limit: 0 }])
    const answers = await Promise.all(
      abusers.map((a) => Promise.all(Array.from({ length: 10 }, (_, i) => a.next((f) => (f[0] === 'EOSE' || f[0] === 'CLOSED') && f[1] === `s${i}`, 20_000)))),
    )
    for (const frames of answers) {
      expect(frames.filter((f) => f[0] === 'EOSE')).toHaveLength(4)
      const refused = frames.filter((f) => f[0] === 'CLOSED')
      expect(refused).toHaveLength(6)
      for (const f of refused) expect(f[2]).toMatch(/^rate-limited: too many filter values in this connection's subscriptions \(max 20000\)/)
    }
    // while they hold what they may, anyone else is served
    const other = await rawClient(server.url)
    const e = signed()
    other.send(['EVENT', e])
    expect(await other.next((f) => f[0] === 'OK', 5000)).toEqual(['OK', e.id, true, ''])
    other.send(['REQ', 'q', { ids: [e.id] }])
    expect(await other.next((f) => f[0] === 'EOSE', 5000)).toEqual(['EOSE', 'q'])
    other.close()
    expect(await metric(server, 'nsecrelay_subscriptions')).toBeGreaterThanOrEqual(24)
    for (const a of abusers) a.close()
    expect(await metricUntil(server, 'nsecrelay_subscriptions', (v) => v === 0)).toBe(0)
    expect(await metricUntil(server, 'nsecrelay_dispatch_entries', (v) => v === baseEntries)).toBe(baseEntries)
    expect(await metricUntil(server, 'nsecrelay_connections', (v) => v === 0)).toBe(0)
  })

  test('a REQ refused for its values ends an open subscription of the same id', async () => {
    const c = await rawClient(server.url)
    c.send(['REQ', 'x', { kinds: [1], limit: 0 }])
    await c.next((f) => f[0] === 'EOSE')
    expect(await metric(server, 'nsecrelay_subscriptions')).toBe(1)
    c.send(['REQ', 'x', { '#t': tagValues(5001, 't') }])
    await c.next((f) => f[0] === 'CLOSED')
    expect(await metric(server, 'nsecrelay_subscriptions')).toBe(0)
    c.close()
    await metricUntil(server, 'nsecrelay_connections', (v) => v === 0)
  })

  test('at most maxConnectionsPerIp (100) connections from one address; a freed slot is given again', async () => {
    expect(await metricUntil(server, 'nsecrelay_connections', (v) => v === 0)).toBe(0)
    const sockets = await Promise.all(Array.from({ length: 100 }, () => upgrade(server.url)))
    expect(sockets.filter((s) => typeof s === 'number')).toEqual([])
    expect(await upgrade(server.url)).toBe(429)
    ;(sockets.pop() as WebSocket).close()
    await metricUntil(server, 'nsecrelay_connections', (v) => v === 99)
    const again = await upgrade(server.url)
    expect(typeof again).not.toBe('number')
    sockets.push(again)
    closeAll(sockets)
    expect(await metricUntil(server, 'nsecrelay_connections', (v) => v === 0)).toBe(0)
  })

  test('a frame over the transport cap closes the connection; one a little over maxMessageBytes is answered', async () => {
    const c = await rawClient(server.url)
    const over = signed({ content: 'x'.repeat(600 * 1024) })
    c.send(['EVENT', over])
    expect(await c.next((f) => f[0] === 'OK')).toEqual(['OK', over.id, false, expect.stringMatching(/^invalid: message larger than/)])
    expect(await metric(server, 'nsecrelay_connections')).toBe(1)
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)))
    c.send(['EVENT', signed({ content: 'x'.repeat(700 * 1024) })])
    expect([1006, 1009]).toContain(await closed) // uWS cuts the socket (1006) rather than saying 1009
  })

  test('a stalled partial frame announcing more than the cap is cut off from its header', async () => {
    const { port } = new URL(server.url)
    const sock = connect(Number(port), '127.0.0.1')
    const closed = new Promise<void>((r) => sock.once('close', () => r()))
    sock.on('error', () => {})
    sock.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    await new Promise<void>((r) => sock.once('data', () => r())) // 101 Switching Protocols
    // a masked text frame header announcing 2 MiB, then a little of it, then nothing
    const header = Buffer.alloc(14)
    header[0] = 0x81
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(BigInt(2 * 1024 * 1024), 2)
    sock.write(Buffer.concat([header, Buffer.alloc(1024, 0x20)]))
    const outcome = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 5000))])
    sock.destroy()
    expect(outcome).toBe('closed')
  })
})

describe('connection admission with a proxy header', () => {
  let server: ServerProcess
  beforeAll(async () => {
    const config = join(tempDir(), 'config.json')
    writeFileSync(config, JSON.stringify({ clientIpHeader: 'X-Forwarded-For', limits: { maxConnections: 4, maxConnectionsPerIp: 1 } }))
    server = await startServerProcess({ args: ['--config', config] })
  })
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0)
  })

  const from = (xff?: string) => upgrade(server.url, xff === undefined ? {} : { headers: { 'X-Forwarded-For': xff } })

  test('counts the address the proxy reports (an IPv6 by its /64), and refuses over the total with 503', async () => {
    const open: Array<WebSocket | number> = []
    const a = await from('10.0.0.1')
    open.push(a)
    expect(typeof a).not.toBe('number')
    expect(await from('10.0.0.1')).toBe(429)
    open.push(await from('6.6.6.6, 10.0.0.2')) // the client's own claim (6.6.6.6) is not what counts
    expect(open.filter((s) => typeof s === 'number')).toEqual([])
    open.push(await from('2001:db8::1'))
    expect(await from('2001:db8:0:0:ffff::2')).toBe(429)
    open.push(await from()) // no header: the socket's own address
    expect(open.filter((s) => typeof s === 'number')).toEqual([])
    expect(await from('10.0.0.9')).toBe(503)
    ;(a as WebSocket).close()
    await metricUntil(server, 'nsecrelay_connections', (v) => v === 3)
    const again = await from('10.0.0.1')
    expect(typeof again).not.toBe('number')
    open.push(again)
    closeAll(open)
  })
})

describe('the frame cap follows maxMessageBytes', () => {
  let server: ServerProcess
  let c: RawClient
  beforeAll(async () => {
    const config = join(tempDir(), 'config.json')
    writeFileSync(config, JSON.stringify({ limits: { maxMessageBytes: 64 * 1024 } }))
    server = await startServerProcess({ args: ['--config', config] })
    c = await rawClient(server.url)
  })
  afterAll(async () => {
    c?.close()
    if (server) expect(await server.stop()).toBe(0)
  })

  test('64 KiB messages: 70 KiB is refused politely, 100 KiB closes the connection', async () => {
    const polite = signed({ content: 'x'.repeat(70 * 1024) })
    c.send(['EVENT', polite])
    expect(await c.next((f) => f[0] === 'OK')).toEqual(['OK', polite.id, false, 'invalid: message larger than 65536 bytes'])
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)))
    c.send(['EVENT', signed({ content: 'x'.repeat(100 * 1024) })])
    expect([1006, 1009]).toContain(await closed)
  })
})
