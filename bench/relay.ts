// bench:relay — nsecrelay against the reference relay (@nostr-relay/core on ws, in-memory store),
// each in its own process, load generators in their own processes, every phase bounded in time.
// Usage: npm run bench:relay -- [--quick] [--only ingest,query,fanout,idle] [--sizes 100000,1000000]
//        [--window 10] (EVENTs each publisher connection keeps in flight)
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { publicKeyOf, signEvent } from '../plugin/bunker/sign.ts'
import { dataset } from './lib/dataset.ts'
import { openRaw } from './lib/raw-ws.ts'
import { cpuSeconds, rssBytes, runTs, startNsecrelay, type Proc } from './lib/procs.ts'
import { percentile, round, table, writeResults } from './lib/report.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, sizes: { type: 'string' }, window: { type: 'string' } } })
const window = values.window ?? '10'
const quick = values.quick === true
const only = new Set((values.only ?? 'ingest,query,fanout,idle').split(','))
const sizes = (values.sizes ?? (quick ? '20000' : '100000,1000000')).split(',').map(Number)

type Target = 'nsecrelay' | 'reference' | 'bare uWS floor'
interface Running {
  url: string
  pid: number
  proc: Proc
}

async function start(target: Target, seed = 0): Promise<Running> {
  if (target === 'bare uWS floor') {
    const proc = runTs('bench/lib/uws-floor.ts')
    const [, url] = await proc.waitFor(/^listening (\S+)$/)
    return { url, pid: proc.proc.pid!, proc }
  }
  if (target === 'reference') {
    const proc = runTs('bench/lib/reference-relay.ts', [String(seed)])
    const [, url] = await proc.waitFor(/^listening (\S+)$/, 600_000)
    return { url, pid: proc.proc.pid!, proc }
  }
  const data = mkdtempSync(join(tmpdir(), 'nsecrelay-bench-'))
  if (seed > 0) {
    const seeding = runTs('bench/lib/seed-nsecrelay.ts', [data, String(seed)])
    await seeding.waitFor(/^seeded/, 1_200_000)
  }
  // every load client connects from 127.0.0.1: the per-address limit (default 100) is raised to fit
  // the idle section's 10,000 connections and the fan-out's 1,000
  const config = join(data, 'bench-config.json')
  writeFileSync(config, JSON.stringify({ limits: { maxConnections: 20_000, maxConnectionsPerIp: 20_000 } }))
  const proc = await startNsecrelay(['--data', data, '--config', config])
  return { url: proc.url, pid: proc.proc.pid!, proc }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------- ingest
async function ingestRun(url: string, connections: number, perConn: number): Promise<{ rate: number; ok: number; refused: number }> {
  const procs = connections === 1 ? [connections] : [connections / 2, connections / 2]
  const pubs = procs.map((c) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/publisher.ts', url, String(c), String(perConn), window, '60000'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const lines: string[] = []
    child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')))
    return { child, lines }
  })
  const waitLine = (p: (typeof pubs)[0], prefix: string) =>
    new Promise<string>((resolve) => {
      const t = setInterval(() => {
        const l = p.lines.find((x) => x.startsWith(prefix))
        if (l) {
          clearInterval(t)
          resolve(l)
        }
      }, 20)
    })
  await Promise.all(pubs.map((p) => waitLine(p, 'ready')))
  for (const p of pubs) p.child.stdin.write('go\n')
  const done = (await Promise.all(pubs.map((p) => waitLine(p, 'done')))).map((l) => l.split(' '))
  const ok = done.reduce((n, d) => n + Number(d[1]), 0)
  const refused = done.reduce((n, d) => n + Number(d[2]), 0)
  // biome-ignore lint/complexity/useMathMinMax: bigints; Math.min does not take them
  const startNs = done.map((d) => BigInt(d[3])).reduce((a, b) => (a < b ? a : b))
  // biome-ignore lint/complexity/useMathMinMax: bigints
  const endNs = done.map((d) => BigInt(d[4])).reduce((a, b) => (a > b ? a : b))
  return { ok, refused, rate: ok / (Number(endNs - startNs) / 1e9) }
}

async function ingest() {
  const rows = []
  for (const target of ['nsecrelay', 'reference'] as Target[]) {
    for (const [connections, perConn] of [
      [1, quick ? 500 : 2000],
      [8, quick ? 300 : 1500],
      [32, quick ? 100 : 500],
    ]) {
      const r = await start(target)
      const cpu0 = cpuSeconds(r.pid)
      const out = await ingestRun(r.url, connections, perConn)
      const cpu = cpuSeconds(r.pid) - cpu0
      rows.push({
        target,
        connections,
        window: Number(window),
        events: connections * perConn,
        ok: out.ok,
        refused: out.refused,
        'events/s': Math.round(out.rate),
        'server cpu ms/event': round((cpu * 1000) / Math.max(1, out.ok), 3),
      })
      await r.proc.stop()
    }
  }
  return rows
}

// ---------------------------------------------------------------- query
interface QueryClient {
  /** Sends one REQ and resolves with [ms to EOSE, events received]. */
  req(filter: object): Promise<[number, number]>
  close(): void
}

/** One REQ at a time over raw-ws.ts, so the time to EOSE is the relay's, not a client library's. */
async function queryClient(url: string): Promise<QueryClient> {
  let onFrame: (payload: Buffer) => void = () => {}
  const ws = await openRaw(url, (payload) => onFrame(payload))
  let serial = 0
  return {
    req: (filter) =>
      new Promise((resolve) => {
        const id = `q${serial++}`
        const event = Buffer.from(`["EVENT","${id}",`)
        const eose = Buffer.from(`["EOSE","${id}"]`)
        const starts = (p: Buffer, prefix: Buffer) => p.length >= prefix.length && p.subarray(0, prefix.length).equals(prefix)
        let n = 0
        const t0 = performance.now()
        onFrame = (p) => {
          if (starts(p, event)) n++
          else if (starts(p, eose)) {
            const ms = performance.now() - t0
            onFrame = () => {}
            ws.send(JSON.stringify(['CLOSE', id]))
            resolve([ms, n])
          }
        }
        ws.send(JSON.stringify(['REQ', id, filter]))
      }),
    close: () => ws.close(),
  }
}

async function query() {
  const rows = []
  const ds = dataset()
  const ids: string[] = []
  for (const e of ds.events(Math.min(...sizes))) if (ids.length < 5000 && Math.random() < 0.05) ids.push(e.id)
  const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)]
  const kinds: Array<[string, () => object]> = [
    ['author', () => ({ authors: [pick(ds.authors)], limit: 100 })],
    ['kind', () => ({ kinds: [pick([1, 6, 7])], limit: 100 })],
    ['tag', () => ({ '#t': [pick(ds.topics)], limit: 100 })],
    ['id', () => ({ ids: [pick(ids)], limit: 100 })],
  ]
  for (const size of sizes) {
    for (const target of ['nsecrelay', 'reference'] as Target[]) {
      const loadStart = performance.now()
      const r = await start(target, size)
      const loadMs = performance.now() - loadStart
      const q = await queryClient(r.url)
      for (const [name, make] of kinds) {
        for (let i = 0; i < 20; i++) await q.req(make()) // warm-up
        const times: number[] = []
        let returned = 0
        const deadline = Date.now() + 20_000
        for (let i = 0; i < (quick ? 100 : 300) && Date.now() < deadline; i++) {
          const [ms, n] = await q.req(make())
          times.push(ms)
          returned += n
        }
        rows.push({
          target,
          store: size,
          query: name,
          runs: times.length,
          'avg events': round(returned / times.length, 1),
          'p50 ms': round(percentile(times, 50), 3),
          'p99 ms': round(percentile(times, 99), 3),
          'load s': round(loadMs / 1000, 1),
        })
      }
      q.close()
      await r.proc.stop()
    }
  }
  return rows
}

// ---------------------------------------------------------------- fan-out
/** The fan-out publisher's connection. */
function client(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

async function fanout() {
  const rows = []
  const sk = Buffer.alloc(32, 7)
  const pk = publicKeyOf(sk)
  const subscribers = quick ? 200 : 1000
  const events = quick ? 10 : 40
  for (const target of ['nsecrelay', 'reference', 'bare uWS floor'] as Target[]) {
    const r = await start(target)
    // two receiver processes: one thread parsing a thousand frames would measure itself, not the relay
    const groups = [Math.ceil(subscribers / 2), Math.floor(subscribers / 2)].map((n) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/subscribers.ts', r.url, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
      const g = { child, out: '' }
      child.stdout.setEncoding('utf8').on('data', (d: string) => (g.out += d))
      return g
    })
    const deadline = Date.now() + 60_000
    while (!groups.every((g) => g.out.includes('ready')) && Date.now() < deadline) await sleep(50)
    const pub = await client(r.url)
    const sent = new Map<string, bigint>()
    for (let i = 0; i < events; i++) {
      const e = signEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'fanout']], content: `fanout ${i} ${Math.random()}` }, sk, pk)
      sent.set(e.id, process.hrtime.bigint())
      pub.send(JSON.stringify(['EVENT', e]))
      await sleep(100)
    }
    await sleep(1000)
    for (const g of groups) g.child.stdin.write('report\n')
    while (!groups.every((g) => g.out.includes('report ')) && Date.now() < deadline + 30_000) await sleep(50)
    const report: Record<string, string[]> = {}
    for (const g of groups) {
      const part = JSON.parse(g.out.slice(g.out.indexOf('report ') + 7).split('\n')[0]) as Record<string, string[]>
      for (const [id, ts] of Object.entries(part)) (report[id] ??= []).push(...ts)
    }
    const complete: number[] = []
    const each: number[] = []
    let delivered = 0
    for (const [id, t0] of sent) {
      const times = (report[id] ?? []).map((t) => Number(BigInt(t) - t0) / 1e6)
      delivered += times.length
      each.push(...times)
      if (times.length === subscribers) complete.push(Math.max(...times))
    }
    rows.push({
      target,
      subscribers,
      events,
      'delivered %': round((100 * delivered) / (subscribers * events), 1),
      'all reached p50 ms': round(percentile(complete, 50), 2),
      'all reached p99 ms': round(percentile(complete, 99), 2),
      'each p50 ms': round(percentile(each, 50), 2),
    })
    pub.close()
    for (const g of groups) g.child.kill()
    await r.proc.stop()
  }
  return rows
}

// ---------------------------------------------------------------- idle connections
async function idle() {
  const rows = []
  const count = quick ? 2000 : 10_000
  for (const target of ['nsecrelay', 'reference'] as Target[]) {
    const r = await start(target)
    await sleep(500)
    const before = rssBytes(r.pid)
    const clients = runTs('bench/lib/idle-clients.ts', [r.url, String(count), '120000'])
    const [, open, failed] = await clients.waitFor(/^ready (\d+) (\d+)$/, 180_000)
    await sleep(2000)
    const after = rssBytes(r.pid)
    rows.push({
      target,
      connections: Number(open),
      failed: Number(failed),
      'RSS before MB': round(before / 2 ** 20, 1),
      'RSS with connections MB': round(after / 2 ** 20, 1),
      'KB per connection': round((after - before) / 1024 / Number(open), 2),
    })
    await clients.stop()
    await r.proc.stop()
  }
  return rows
}

const results: Record<string, unknown> = { quick, window: Number(window) }
/** Only a full default run is `relay.json`, the figures the README quotes; others get their own name. */
const resultName = values.only || values.window || values.sizes || quick ? 'relay-partial' : 'relay'
const sections: Array<[string, () => Promise<Array<Record<string, unknown>>>]> = [
  ['ingest', ingest],
  ['query', query],
  ['fanout', fanout],
  ['idle', idle],
]
/** What pairs a nsecrelay row with its reference row, and which figures are compared. */
const comparisons: Record<string, { key: string[]; metrics: string[] }> = {
  ingest: { key: ['connections'], metrics: ['events/s', 'server cpu ms/event'] },
  query: { key: ['store', 'query'], metrics: ['p50 ms', 'p99 ms'] },
  fanout: { key: ['subscribers'], metrics: ['all reached p50 ms', 'all reached p99 ms', 'each p50 ms'] },
  idle: { key: [], metrics: ['RSS with connections MB', 'KB per connection'] },
}

/** nsecrelay's figure divided by the reference's, for every row the reference also has. */
function ratios(section: string, rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const { key, metrics } = comparisons[section]
  const keyOf = (r: Record<string, unknown>) => key.map((k) => r[k]).join('/')
  const reference = new Map(rows.filter((r) => r.target === 'reference').map((r) => [keyOf(r), r]))
  return rows
    .filter((r) => r.target === 'nsecrelay' && reference.has(keyOf(r)))
    .map((r) => {
      const ref = reference.get(keyOf(r))!
      const out: Record<string, unknown> = Object.fromEntries(key.map((k) => [k, r[k]]))
      for (const m of metrics) out[`${m} nsecrelay/reference`] = round(Number(r[m]) / Number(ref[m]), 3)
      return out
    })
}

for (const [name, run] of sections) {
  if (!only.has(name)) continue
  const rows = await run()
  const ratioRows = ratios(name, rows)
  results[name] = rows
  results[`${name} ratios`] = ratioRows
  console.log(`\n## ${name}\n${table(rows)}\n\n${table(ratioRows)}`)
}
console.log(`\nwritten ${writeResults(resultName, results)}`)
process.exit(0)
