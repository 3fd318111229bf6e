// Process-level behaviour: native uWS, CLI and env options, HTTP routes, slow consumers.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { generateSecretKey } from 'nostr-tools/pure'
import { uwsBuild } from '../../relay/server.ts'
import { rawClient, signed, WebSocket } from '../helpers/clients.ts'
import { startServerProcess, tempDir } from '../helpers/server.ts'

describe('server process', () => {
  test('the native uWebSockets.js build loads on this machine, and the log says so', async () => {
    expect(uwsBuild()).toBe('native')
    const s = await startServerProcess({ env: { NSECRELAY_LOG_LEVEL: 'info' } })
    await new Promise((r) => setTimeout(r, 200))
    expect(s.stderr.join('\n')).toMatch(/"uws":"native"/)
    await s.stop()
  })

  test('env selects host, port and data; SIGTERM exits 0', async () => {
    const data = tempDir()
    const s = await startServerProcess({ env: { NSECRELAY_HOST: '127.0.0.2', NSECRELAY_DATA: data } })
    expect(s.url).toMatch(/^ws:\/\/127\.0\.0\.2:\d+$/)
    expect(s.stdout[0]).toBe(`listening ${s.url}`)
    expect(await s.stop()).toBe(0)
  })

  test('bad options exit 2 with a readable message', async () => {
    await expect(startServerProcess({ args: ['--port', 'seventy'] })).rejects.toThrow(/exited with 2[\s\S]*port/)
  })

  test('/healthz and /metrics', async () => {
    const s = await startServerProcess()
    const http = s.url.replace('ws://', 'http://')
    expect(await (await fetch(`${http}/healthz`)).text()).toBe('ok\n')
    const metrics = await (await fetch(`${http}/metrics`)).text()
    expect(metrics).toMatch(/^nsecrelay_connections\{relay="\/"\} \d+$/m)
    await s.stop()
  })

  test('a slow consumer is disconnected; everyone else carries on', async () => {
    const dir = tempDir()
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ limits: { maxBufferedBytes: 256 * 1024 } }))
    const s = await startServerProcess({ args: ['--config', config] })
    const sk = generateSecretKey()
    const slow = new WebSocket(s.url)
    await new Promise((r) => slow.once('open', r))
    slow.send(JSON.stringify(['REQ', 'all', { kinds: [1], limit: 0 }]))
    await new Promise((r) => setTimeout(r, 100))
    ;(slow as unknown as { _socket: { pause(): void } })._socket.pause() // stops reading: the server's buffer fills
    const closed = new Promise<number>((r) => slow.once('close', (code) => r(code)))
    const pub = await rawClient(s.url)
    const payload = 'x'.repeat(60 * 1024)
    let acked = 0
    for (let i = 0; i < 200; i++) {
      const e = signed({ content: payload + i }, sk)
      pub.send(['EVENT', e])
      await pub.next((f) => f[0] === 'OK' && f[1] === e.id)
      acked++
    }
    expect(acked).toBe(200)
    ;(slow as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await closed).toBe(1008)
    pub.close()
    await s.stop()
  })
})
