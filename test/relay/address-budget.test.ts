// Per-address budgets (issue 8): one address flooding EVENTs or bytes is refused before the relay
// spends signature checks or JSON parsing on it, over all its connections, while other addresses
// are served as usual.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { rawClient, signed } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'

describe('per-address budgets', () => {
  let server: ServerProcess
  beforeAll(async () => {
    const config = join(tempDir(), 'config.json')
    // 10 events/s and 100 kB/s sustained, so bursts (two seconds' worth) of 20 events and 200 kB
    writeFileSync(config, JSON.stringify({ limits: { maxEventsPerSecondPerIp: 10, maxInputBytesPerSecondPerIp: 100_000 } }))
    server = await startServerProcess({ args: ['--config', config] })
  })
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0)
  })

  test('EVENTs past the budget get OK false rate-limited:, counted over all connections of the address', async () => {
    const [a, b] = await Promise.all([rawClient(server.url), rawClient(server.url)])
    const events = Array.from({ length: 60 }, (_, i) => signed({ content: `flood ${i}` }))
    const started = Date.now()
    for (const [i, e] of events.entries()) (i % 2 ? a : b).send(['EVENT', e])
    const oks = await Promise.all(events.map((e, i) => (i % 2 ? a : b).next((f) => f[0] === 'OK' && f[1] === e.id, 10_000)))
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 10)
    const accepted = oks.filter((f) => f[2] === true).length
    const limited = oks.filter((f) => f[2] === false && String(f[3]).startsWith('rate-limited: too many events from your address'))
    expect(accepted).toBeGreaterThanOrEqual(20) // the burst
    expect(accepted).toBeLessThanOrEqual(20 + refilled) // plus what refilled while they came in
    expect(limited.length).toBe(60 - accepted)

    const other = await rawClient(server.url, { localAddress: '127.0.0.2' })
    const mine = Array.from({ length: 5 }, (_, i) => signed({ content: `other ${i}` }))
    for (const e of mine) other.send(['EVENT', e])
    for (const e of mine) expect(await other.next((f) => f[0] === 'OK' && f[1] === e.id)).toEqual(['OK', e.id, true, ''])
    for (const c of [a, b, other]) c.close()
  })

  test('input past the byte budget is dropped unread with one NOTICE rate-limited:, other addresses unaffected', async () => {
    const c = await rawClient(server.url, { localAddress: '127.0.0.3' })
    const bulky = (i: number) => ['REQ', `big${i}`, { '#t': Array.from({ length: 1000 }, (_, j) => `${'x'.repeat(90)}${i}-${j}`), limit: 0 }]
    for (let i = 0; i < 4; i++) c.send(bulky(i)) // ~98 kB each: the third passes the 200 kB burst
    expect(await c.next((f) => f[0] === 'NOTICE')).toEqual(['NOTICE', 'rate-limited: too much input from your address; frames are being dropped'])
    await c.next((f) => f[1] === 'big1') // the first two were read and answered
    await new Promise((r) => setTimeout(r, 300))
    expect(c.frames.filter((f) => f[1] === 'big2' || f[1] === 'big3')).toEqual([]) // dropped unread
    expect(c.frames.filter((f) => f[0] === 'NOTICE')).toHaveLength(1)

    const other = await rawClient(server.url, { localAddress: '127.0.0.4' })
    other.send(['REQ', 'fine', { kinds: [1], limit: 0 }])
    expect(await other.next((f) => f[1] === 'fine')).toEqual(['EOSE', 'fine'])
    c.close()
    other.close()
  })
})
