// bench:relays: many hosted relays in one process. The server starts on a fresh data directory; N
// relays (default 1,000; --quick 200; --relays N) are created through NIP-86 (NIP-98 signed, as a
// management client would), the server's memory is read at steps on the way, then the server is
// restarted on the same data and read again (every relay loaded from LMDB at start), and once more
// with one idle client connected to every relay. "per relay" is the growth over the server with no
// hosted relay, divided by the relays. A write and a read on the last relay, and a read of the same
// id on the first, check that the relays work and stay apart.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { memoryOf, type Proc, runTs } from './lib/procs.ts'
import { round, table, writeResults } from './lib/report.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'

const quick = process.argv.includes('--quick')
const flag = process.argv.indexOf('--relays')
const N = flag > 0 ? Number(process.argv[flag + 1]) : quick ? 200 : 1000
const STEPS = [...new Set([Math.round(N / 10), Math.round(N / 2), N])].filter((n) => n > 0)
const SETTLE_MS = 3000
const IN_FLIGHT = 4

const adminSk = generateSecretKey()
const data = mkdtempSync(join(tmpdir(), 'bench-relays-'))
const config = join(data, '..', `${data.split('/').pop()}-config.json`)
writeFileSync(config, JSON.stringify({ relays: { admins: [getPublicKey(adminSk)] }, limits: { maxConnectionsPerIp: N + 100 } }))
const args = ['--data', data, '--config', config]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mb = (b: number) => round(b / 1024 / 1024, 1)

async function rpc(base: string, method: string, params: unknown[]): Promise<unknown> {
  const url = base.replace(/^ws/, 'http')
  const payload = { method, params }
  const token = await getToken(url, 'POST', (e) => finalizeEvent(e, adminSk), true, payload)
  const res = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers: { 'Content-Type': 'application/nostr+json+rpc', Authorization: token },
  })
  const body = (await res.json()) as { result?: unknown; error?: string }
  if (!res.ok || body.error) throw new Error(`${method}: ${res.status} ${JSON.stringify(body)}`)
  return body.result
}

interface Server extends Proc {
  url: string
}

async function startServer(): Promise<Server> {
  const p = runTs('bench/lib/gc-server.ts', ['--port', '0', ...args], { NSECRELAY_LOG_LEVEL: 'warn' }, ['--expose-gc'])
  const [, url] = await p.waitFor(/^listening (\S+)$/)
  await p.waitFor(/^bunker:\/\/\S+$/)
  return { ...p, url }
}

interface Memory {
  rss: number
  anon: number
  heap: number
}

/** Memory after a quiet spell and a full collection: the heap in use, and the process's resident set. */
async function settled(server: Server): Promise<Memory> {
  await sleep(SETTLE_MS)
  const seen = server.lines.length
  server.proc.kill('SIGUSR2')
  let line: string | undefined
  for (let i = 0; i < 100 && !line; i++) {
    await sleep(50)
    line = server.lines.slice(seen).find((l) => l.startsWith('memory '))
  }
  if (!line) throw new Error('the server did not report its memory')
  const usage = JSON.parse(line.slice('memory '.length)) as NodeJS.MemoryUsage
  const m = memoryOf(server.proc.pid!)
  return { rss: m.rss, anon: m.anon, heap: usage.heapUsed + usage.external }
}

interface Row {
  phase: string
  relays: number
  'RSS MB': number
  'anon MB': number
  'JS heap + external MB': number
  'KB per relay (RSS)': number | undefined
  'KB per relay (anon)': number | undefined
  'KB per relay (JS heap)': number | undefined
}

const rows: Row[] = []
let base: Memory | undefined
function record(phase: string, relays: number, m: Memory): void {
  base ??= m
  const per = (x: number, y: number) => (relays > 0 ? round((x - y) / 1024 / relays, 1) : undefined)
  rows.push({
    phase,
    relays,
    'RSS MB': mb(m.rss),
    'anon MB': mb(m.anon),
    'JS heap + external MB': mb(m.heap),
    'KB per relay (RSS)': per(m.rss, base.rss),
    'KB per relay (anon)': per(m.anon, base.anon),
    'KB per relay (JS heap)': per(m.heap, base.heap),
  })
  console.log(`${phase}: ${relays} relays, RSS ${mb(m.rss)} MB`)
}

function ws(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url)
    s.once('open', () => resolve(s))
    s.once('error', reject)
  })
}

async function exchange(url: string, frame: unknown[], until: (f: unknown[]) => boolean): Promise<unknown[][]> {
  const s = await ws(url)
  const frames: unknown[][] = []
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer from ${url}`)), 10_000)
    s.on('message', (d) => {
      const f = JSON.parse(d.toString()) as unknown[]
      frames.push(f)
      if (until(f)) {
        clearTimeout(t)
        resolve()
      }
    })
    s.send(JSON.stringify(frame))
  })
  s.close()
  return frames
}

const relayUrl = (server: Server, i: number) => `${server.url}/nostrrelay/r${i}`

async function main(): Promise<void> {
  let server = await startServer()
  record('start, no hosted relay', 0, await settled(server))

  const createMs: number[] = []
  let made = 0
  for (const step of STEPS) {
    const t0 = performance.now()
    const from = made
    let next = made
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < step; i = next++) await rpc(server.url, 'createrelay', [`r${i}`, { name: `relay ${i}` }])
      }),
    )
    made = step
    createMs.push((performance.now() - t0) / (step - from))
    record(`after createrelay x${step}`, step, await settled(server))
  }

  const e = finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'bench' }, generateSecretKey())
  const ok = await exchange(relayUrl(server, N - 1), ['EVENT', e], (f) => f[0] === 'OK')
  const found = await exchange(relayUrl(server, N - 1), ['REQ', 's', { ids: [e.id] }], (f) => f[0] === 'EOSE')
  const leaked = await exchange(relayUrl(server, 0), ['REQ', 's', { ids: [e.id] }], (f) => f[0] === 'EOSE')
  const works = ok[0][2] === true && found.some((f) => f[0] === 'EVENT') && !leaked.some((f) => f[0] === 'EVENT')

  await server.stop()
  const t0 = performance.now()
  server = await startServer()
  const startMs = performance.now() - t0
  record('restarted, all loaded from LMDB', N, await settled(server))

  const sockets: WebSocket[] = []
  for (let i = 0; i < N; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => ws(relayUrl(server, i + j))))))
  record('one idle client on every relay', N, await settled(server))
  const metrics = await (await fetch(`${server.url.replace(/^ws/, 'http')}/metrics`)).text()
  const connected = [...metrics.matchAll(/^nsecrelay_connections\{relay="\/nostrrelay\/r\d+"\} 1$/gm)].length
  for (const s of sockets) s.close()
  await server.stop()

  const summary = [
    {
      relays: N,
      'createrelay ms each (last step)': round(createMs[createMs.length - 1]),
      'restart to listening ms': round(startMs),
      'relays with their client (metrics)': connected,
      'write/read on the last, not seen on the first': works ? 'yes' : 'NO',
    },
  ]
  console.log(`\n${table(rows as unknown as Array<Record<string, unknown>>)}\n\n${table(summary)}`)
  const file = writeResults(quick ? 'relays-quick' : 'relays', { relays: N, settleMs: SETTLE_MS, rows, summary: summary[0] })
  console.log(`\nwrote ${file}`)
  if (!works || connected !== N) process.exitCode = 1
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
