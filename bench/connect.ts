// bench:connect — the headline. How soon, and how surely, can a client talk to a key it was just
// told exists? Same machine, same run, same client (nostr-tools BunkerSigner), no sleeps:
//   A     nsecrelay's embedded bunker
//   B281  NDKNip46Backend 2.8.1 as a relay client, started as nsecbunkerd starts a key
//   B303  the same with NDK 3.0.3
//   C303  B303 with the EOSE-wait fix
//   Aup   A reached through an upstream relay only: the client and the bunker's bridge both talk to
//         a public relay (--upstream: a plain nsecrelay, or the reference relay) behind the proxy,
//         as clients of nsecbunkerd do; B and C then run on that same kind of relay
// at link latency 0 and 20 ms each way (a delaying TCP proxy between the relay and everything else).
// Usage: npm run bench:connect -- [--iterations 500] [--latencies 0,20] [--variants A,B281,B303,C303]
//        [--upstream nsecrelay|reference] [--time-limit 120] [--load-clients 50] [--load-seconds 10] [--quick]
// The upstream comparison: --latencies 30 --variants A,Aup,B303,C303 (A is the floor's reference).
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { BunkerSigner, parseBunkerInput } from 'nostr-tools/nip46'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import * as nip04 from 'nostr-tools/nip04'
import { generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { nip19 } from 'nostr-tools'
import { checkEvent } from '../relay/verify.ts'
import { signEvent } from '../plugin/bunker/sign.ts'
import { cpuSeconds, startNsecrelay, type Nsecrelay } from './lib/procs.ts'
import { startProxy } from './lib/proxy.ts'
import { percentile, round, table, writeResults } from './lib/report.ts'
import { startUpstream, type BenchUpstream, type UpstreamKind } from './lib/upstream.ts'

useWebSocketImplementation(WebSocket)
const { values } = parseArgs({
  options: {
    iterations: { type: 'string' },
    latencies: { type: 'string' },
    variants: { type: 'string' },
    'time-limit': { type: 'string' },
    'load-clients': { type: 'string' },
    'load-seconds': { type: 'string' },
    upstream: { type: 'string' },
    quick: { type: 'boolean' },
  },
})
const quick = values.quick === true
const ITERATIONS = Number(values.iterations ?? (quick ? 50 : 500))
const LATENCIES = (values.latencies ?? '0,20').split(',').map(Number)
const VARIANTS = (values.variants ?? 'A,B281,B303,C303').split(',') as Variant[]
const TIME_LIMIT_MS = Number(values['time-limit'] ?? (quick ? 30 : 120)) * 1000
const LOAD_CLIENTS = Number(values['load-clients'] ?? 50)
const LOAD_MS = Number(values['load-seconds'] ?? (quick ? 5 : 10)) * 1000
/** Set: B and C run on this kind of relay too (the one Aup goes through), not on an nsecrelay with a bunker. */
const UPSTREAM = values.upstream as UpstreamKind | undefined
if (UPSTREAM !== undefined && UPSTREAM !== 'nsecrelay' && UPSTREAM !== 'reference') throw new Error('--upstream nsecrelay|reference')
/** A connect not answered within this is lost: kind 24133 is ephemeral, nobody will resend it. */
const LOST_AFTER_MS = 1500

type Variant = 'A' | 'Aup' | 'B281' | 'B303' | 'C303'
const now = () => performance.now()
const seconds = () => Math.floor(Date.now() / 1000)

function timeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([p.finally(() => clearTimeout(t)), new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error('timeout')), ms)))])
}

/** A pool verifying on libsecp256k1, so the client side stays cheap for every variant alike. */
const fastPool = () => new SimplePool({ verifyEvent: (e: Event) => checkEvent(e) === 'ok' } as ConstructorParameters<typeof SimplePool>[0])

interface Measured {
  n: number
  lost: number
  /** key creations whose reply never came (a backend whose start never finished) */
  createFailed: number
  /** reply received -> connect acked (or, for B281, -> request seen by the backend) */
  connectMs: number[]
  signMs: number[]
  lastPubkey?: string
}

async function startServer(adminPk: string, extraArgs: string[] = []): Promise<Nsecrelay> {
  const dir = mkdtempSync(join(tmpdir(), 'nsecrelay-connect-'))
  const config = join(dir, 'config.json')
  // scrypt cost is outside the measured interval; autoApprove plays the part of the permit-all
  // callback the NDK backends get, so that no variant waits for a human.
  // the load clients all connect from 127.0.0.1: the per-address connection limit is raised for them
  writeFileSync(config, JSON.stringify({ bunker: { scryptLogN: 12, autoApprove: true }, limits: { maxConnectionsPerIp: 10_000 } }))
  return startNsecrelay(['--data', join(dir, 'data'), '--config', config, '--admin', adminPk, ...extraArgs])
}

async function signOnce(signer: BunkerSigner, m: Measured): Promise<void> {
  const t = now()
  await timeout(signer.signEvent({ kind: 1, content: 'bench', tags: [], created_at: seconds() }), 5000)
  m.signMs.push(now() - t)
}

/** A fresh client connects to `pubkey` (lost if no ack in time), then signs once. t0: reply seen. */
async function connectAndSign(url: string, pubkey: string, pool: SimplePool, t0: number, m: Measured): Promise<void> {
  const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey, relays: [url], secret: null }, { pool })
  try {
    await timeout(signer.connect(), LOST_AFTER_MS)
    m.connectMs.push(now() - t0)
    await signOnce(signer, m)
    m.lastPubkey = pubkey
  } catch {
    m.lost++
  }
  await signer.close()
}

async function runA(url: string, server: Nsecrelay, adminSk: Uint8Array): Promise<Measured> {
  const pool = fastPool()
  const bp = (await parseBunkerInput(server.bunkerUri))!
  const admin = BunkerSigner.fromBunker(adminSk, { ...bp, relays: [url] }, { pool })
  await timeout(admin.connect(), 5000)
  const m: Measured = { n: 0, lost: 0, createFailed: 0, connectMs: [], signMs: [] }
  const deadline = Date.now() + TIME_LIMIT_MS
  for (let i = 0; i < ITERATIONS && Date.now() < deadline; i++) {
    const { npub } = JSON.parse(await timeout(admin.sendRequest('create_new_key', [`k${i}`, 'pw']), 5000))
    const t0 = now()
    const pubkey = nip19.decode(npub).data as unknown as string
    m.n++
    await connectAndSign(url, pubkey, pool, t0, m)
  }
  await admin.close()
  pool.destroy()
  return m
}

async function runB(url: string, variant: Exclude<Variant, 'A' | 'Aup'>): Promise<Measured & { backend: ChildProcess }> {
  const harnessSk = generateSecretKey()
  const harness = getPublicKey(harnessSk)
  const backend = fork(
    new URL('./lib/backend-b.ts', import.meta.url).pathname,
    [url, variant === 'B281' ? 'ndk281' : 'ndk303', variant === 'C303' ? 'eose' : 'plain', harness],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  )
  const seen = new Map<string, () => void>()
  await new Promise<void>((resolve) =>
    backend.on('message', (msg: { ready?: boolean; seen?: string }) => {
      if (msg.ready) resolve()
      if (msg.seen) seen.get(msg.seen)?.()
    }),
  )
  const pool = fastPool()
  const replies = new Map<string, (pubkey: string) => void>()
  const sub = pool.subscribe(
    [url],
    { kinds: [24134], '#p': [harness], limit: 0 },
    {
      onevent(e: Event) {
        const { id, pubkey } = JSON.parse(e.content)
        replies.get(id)?.(pubkey)
      },
    },
  )
  await new Promise((r) => setTimeout(r, 300)) // the harness's own subscription: set up once, before any measurement
  const m: Measured = { n: 0, lost: 0, createFailed: 0, connectMs: [], signMs: [] }
  const deadline = Date.now() + TIME_LIMIT_MS
  for (let i = 0; i < ITERATIONS && Date.now() < deadline; i++) {
    const id = String(i)
    const replied = new Promise<string>((resolve) => replies.set(id, resolve))
    backend.send({ create: id })
    let pubkey: string
    try {
      pubkey = await timeout(replied, 10_000)
    } catch {
      m.createFailed++ // the admin never hears back: for a client, as bad as a lost connect
      continue
    }
    const t0 = now()
    m.n++
    if (variant === 'B281') {
      // NDK 2.8.1 speaks NIP-04 only, which BunkerSigner cannot: count whether the request arrives.
      const arrived = new Promise<void>((resolve) => seen.set(pubkey, resolve))
      const clientSk = generateSecretKey()
      const body = JSON.stringify({ id: `c${i}`, method: 'connect', params: [pubkey, ''] })
      const ev = signEvent(
        { kind: 24133, created_at: seconds(), tags: [['p', pubkey]], content: nip04.encrypt(clientSk, pubkey, body) },
        clientSk,
        getPublicKey(clientSk),
      )
      await Promise.any(pool.publish([url], ev))
      try {
        await timeout(arrived, LOST_AFTER_MS)
        m.connectMs.push(now() - t0)
        m.lastPubkey = pubkey
      } catch {
        m.lost++
      }
      continue
    }
    await connectAndSign(url, pubkey, pool, t0, m)
  }
  sub.close()
  pool.destroy()
  return { ...m, backend }
}

/** sign_event throughput: LOAD_CLIENTS clients over two load processes, for LOAD_MS. */
async function throughput(
  url: string,
  signer: string,
  scheme: 'nip44' | 'nip04',
  pids: number[],
): Promise<{ perSecond: number; errors: number; cpuMsPerSign: number }> {
  const half = Math.ceil(LOAD_CLIENTS / 2)
  const procs = [half, LOAD_CLIENTS - half]
    .filter((n) => n > 0)
    .map((n) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/sign-load.ts', url, signer, String(n), scheme, String(LOAD_MS)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      return { child, out: () => out }
    })
  const waitFor = async (word: string) => {
    const deadline = Date.now() + 60_000
    while (!procs.every((p) => p.out().includes(word)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    if (!procs.every((p) => p.out().includes(word))) throw new Error(`load clients: no '${word}'`)
  }
  await waitFor('ready')
  const cpu0 = pids.reduce((s, pid) => s + cpuSeconds(pid), 0)
  for (const p of procs) p.child.stdin.write('go\n')
  await waitFor('done')
  const cpu = pids.reduce((s, pid) => s + cpuSeconds(pid), 0) - cpu0
  const [ok, errors] = procs
    .map((p) =>
      p
        .out()
        .match(/done (\d+) (\d+)/)!
        .slice(1)
        .map(Number),
    )
    .reduce((a, b) => [a[0] + b[0], a[1] + b[1]])
  return { perSecond: ok / (LOAD_MS / 1000), errors, cpuMsPerSign: (cpu * 1000) / Math.max(1, ok) }
}

async function serviceTimeP50(server: Nsecrelay): Promise<number> {
  const text = await (await fetch(`${server.url.replace('ws://', 'http://')}/metrics`)).text()
  const m = text.match(/nsecrelay_bunker_service_quantile_seconds\{quantile="0\.5",method="sign_event"\} ([0-9.e-]+)/)
  return m ? Number(m[1]) * 1000 : NaN
}

/**
 * Where a variant's clients connect, and what runs there. A: the bunker's relay behind the proxy.
 * Aup: a public relay behind the proxy, which the bunker's bridge reaches through the same proxy.
 * B/C: the relay their NDK backend is a client of (an nsecrelay, or the --upstream kind).
 */
async function setUp(variant: Variant, latency: number, adminPk: string) {
  const behindProxy = async (port: number) => (latency > 0 ? await startProxy(port, latency) : undefined)
  if (variant === 'A') {
    const server = await startServer(adminPk)
    const proxy = await behindProxy(Number(new URL(server.url).port))
    return { server, proxy, url: proxy?.url ?? server.url, pids: [server.proc.pid!] }
  }
  if (variant === 'Aup' || UPSTREAM !== undefined) {
    const upstream: BenchUpstream = await startUpstream(UPSTREAM ?? 'nsecrelay')
    const proxy = await behindProxy(Number(new URL(upstream.url).port))
    const url = proxy?.url ?? upstream.url
    if (variant !== 'Aup') return { upstream, proxy, url, pids: [upstream.pid] }
    const server = await startServer(adminPk, ['--upstream', url])
    return { server, upstream, proxy, url, pids: [server.proc.pid!, upstream.pid] }
  }
  const server = await startServer(adminPk)
  const proxy = await behindProxy(Number(new URL(server.url).port))
  return { server, proxy, url: proxy?.url ?? server.url, pids: [server.proc.pid!] }
}

const rows: Array<Record<string, unknown>> = []
for (const latency of LATENCIES) {
  for (const variant of VARIANTS) {
    const adminSk = generateSecretKey()
    const { server, upstream, proxy, url, pids: serverPids } = await setUp(variant, latency, getPublicKey(adminSk))
    let m: Measured
    let backend: ChildProcess | undefined
    // Aup: the admin, too, knows only the upstream's URL
    if (variant === 'A' || variant === 'Aup') m = await runA(url, server!, adminSk)
    else ({ backend, ...m } = await runB(url, variant))
    const bunkerHere = variant === 'A' || variant === 'Aup'
    // Before the load: each iteration's one sign_event, the first from a just-connected client, which
    // goes through the approval path. After it: dominated by the load's known clients.
    const service = bunkerHere ? await serviceTimeP50(server!) : undefined
    const pids = [...serverPids, ...(backend ? [backend.pid!] : [])]
    const load = m.lastPubkey ? await throughput(url, m.lastPubkey, variant === 'B281' ? 'nip04' : 'nip44', pids) : undefined
    const serviceLoaded = bunkerHere ? await serviceTimeP50(server!) : undefined
    rows.push({
      variant,
      'latency ms': latency,
      relay: upstream ? upstream.kind : 'nsecrelay',
      n: m.n,
      lost: m.lost,
      'create failed': m.createFailed,
      'connect p50 ms': round(percentile(m.connectMs, 50), 2),
      'connect p99 ms': round(percentile(m.connectMs, 99), 2),
      'connect max ms': round(Math.max(...m.connectMs), 2),
      'sign p50 ms': round(percentile(m.signMs, 50), 2),
      'sign p99 ms': round(percentile(m.signMs, 99), 2),
      'sign/s (50 clients)': load ? Math.round(load.perSecond) : undefined,
      'load errors': load?.errors,
      'server cpu ms/sign': load ? round(load.cpuMsPerSign, 3) : undefined,
      'service p50 ms, first request': service === undefined ? undefined : round(service, 3),
      'service p50 ms, known clients': serviceLoaded === undefined ? undefined : round(serviceLoaded, 3),
    })
    console.log(table(rows.slice(-1)))
    backend?.kill()
    await proxy?.close()
    await server?.stop()
    await upstream?.stop()
  }
}

/** Ratio of B/C connect p50 to A's (or Aup's) at the same latency. */
const ratios = LATENCIES.flatMap((latency) => {
  const a = rows.find((r) => r.variant === 'A' && r['latency ms'] === latency)
  const aup = rows.find((r) => r.variant === 'Aup' && r['latency ms'] === latency)
  const vs = (base: Record<string, unknown>, others: Array<Record<string, unknown>>) =>
    others.map((r) => ({
      latency,
      base: base.variant,
      vs: r.variant,
      'connect p50 ratio (X/base)': round((r['connect p50 ms'] as number) / (base['connect p50 ms'] as number), 2),
      'lost X vs base': `${r.lost}/${r.n} vs ${base.lost}/${base.n}`,
    }))
  const here = rows.filter((r) => r['latency ms'] === latency)
  return [
    ...(a && !aup
      ? vs(
          a,
          here.filter((r) => r.variant !== 'A'),
        )
      : []),
    ...(aup
      ? vs(
          aup,
          here.filter((r) => r.variant !== 'A' && r.variant !== 'Aup'),
        )
      : []),
  ]
})

/**
 * Aup against its floor: the same client and bunker work as A at this latency, plus the one more
 * round trip through the proxy that a route via an upstream takes (client -> upstream -> bridge and
 * back: four one-way hops instead of two).
 */
const floors = LATENCIES.flatMap((latency) => {
  const a = rows.find((r) => r.variant === 'A' && r['latency ms'] === latency)
  const aup = rows.find((r) => r.variant === 'Aup' && r['latency ms'] === latency)
  if (!a || !aup) return []
  const floor = (a['connect p50 ms'] as number) + 2 * latency
  return [
    {
      latency,
      'A connect p50 ms': a['connect p50 ms'],
      'floor ms (A + 2 x latency)': round(floor, 2),
      'Aup connect p50 ms': aup['connect p50 ms'],
      'Aup/floor': round((aup['connect p50 ms'] as number) / floor, 3),
    },
  ]
})

console.log(
  `\n## bench:connect (iterations ${ITERATIONS}, lost after ${LOST_AFTER_MS} ms; B281 column "connect" = reply -> request seen by the backend)\n${table(rows)}`,
)
if (ratios.length) console.log(`\n${table(ratios)}`)
if (floors.length) console.log(`\n${table(floors)}`)
// runs through an upstream are their own series: bench/results/connect-upstream.json
const resultName = UPSTREAM !== undefined || VARIANTS.includes('Aup') ? 'connect-upstream' : 'connect'
console.log(`\nwritten ${writeResults(resultName, { iterations: ITERATIONS, lostAfterMs: LOST_AFTER_MS, upstream: UPSTREAM, rows, ratios, floors })}`)
process.exit(0)
