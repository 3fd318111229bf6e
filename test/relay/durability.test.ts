// Restarts and SIGKILL: an event acknowledged with OK true is on disk.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { rawClient, signed } from '../helpers/clients.ts'
import { startServerProcess, tempDir } from '../helpers/server.ts'

async function storedIds(url: string, author: string): Promise<Set<string>> {
  const c = await rawClient(url)
  c.send(['REQ', 'q', { authors: [author], limit: 5000 }])
  await c.next((f) => f[0] === 'EOSE', 10_000)
  c.close()
  return new Set(c.frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as Event).id))
}

describe('durability', () => {
  test('a clean restart keeps stored events', async () => {
    const data = tempDir()
    const sk = generateSecretKey()
    const first = await startServerProcess({ data })
    const c = await rawClient(first.url)
    const events = Array.from({ length: 20 }, () => signed({}, sk))
    for (const e of events) c.send(['EVENT', e])
    for (const e of events) await c.next((f) => f[0] === 'OK' && f[1] === e.id && f[2] === true)
    c.close()
    expect(await first.stop('SIGINT')).toBe(0)
    const second = await startServerProcess({ data })
    expect(await storedIds(second.url, getPublicKey(sk))).toEqual(new Set(events.map((e) => e.id)))
    await second.stop()
  })

  test('every event OK’d before SIGKILL is there after restart (3 rounds, checks on worker threads)', async () => {
    const data = tempDir()
    // Bursts of 300 EVENTs make batches big enough for the signature-check workers.
    const config = join(tempDir(), 'config.json')
    writeFileSync(config, JSON.stringify({ verifyWorkers: 2 }))
    const sk = generateSecretKey()
    const acked = new Set<string>()
    for (let round = 0; round < 3; round++) {
      const server = await startServerProcess({ data, args: ['--config', config] })
      const c = await rawClient(server.url)
      const events = Array.from({ length: 300 }, () => signed({}, sk))
      const enough = new Promise<void>((resolve) => {
        c.ws.on('message', (raw) => {
          const f = JSON.parse(raw.toString())
          if (f[0] === 'OK' && f[2] === true) acked.add(f[1])
          if (acked.size >= (round + 1) * 100) resolve()
        })
      })
      for (const e of events) c.send(['EVENT', e])
      await enough
      server.proc.kill('SIGKILL') // mid-stream: later events may or may not have landed
      await server.stop()
      c.close()
    }
    const server = await startServerProcess({ data })
    const stored = await storedIds(server.url, getPublicKey(sk))
    const lost = [...acked].filter((id) => !stored.has(id))
    expect(lost).toEqual([])
    await server.stop()
  })
})
