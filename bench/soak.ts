// bench:soak — minutes of mixed legitimate load with hostile clients running alongside. The relay
// runs in its own process on a fresh data directory; the load runs in four more processes
// (legitimate traffic, bunker clients, hostile clients against the relay, hostile clients against
// the bunker); this process only measures: the relay's RSS from /proc, a probe client's latency,
// /metrics scrapes, and at the end whether every event the relay OK'd can still be read back.
// A relay that dies or hangs is reported as a failure; the bench always ends by itself.
// Usage: npm run bench:soak -- [--quick] [--minutes 10] [--hostile hugeFilters,count,...|none] [--keep]
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bytesToHex } from '@noble/hashes/utils.js'
import { nip19 } from 'nostr-tools'
import { generateSecretKey } from 'nostr-tools/pure'
import { cpuSeconds, memoryOf, runTs, startNsecrelay, type Memory, type Nsecrelay, type Proc } from './lib/procs.ts'
import { percentile, round, table, writeResults } from './lib/report.ts'
import { startProbe, type ProbeSample } from './lib/soak-probe.ts'
import type { SoakLoad, SoakSetup } from './lib/soak-setup.ts'
import { verifyStored, type Verification } from './lib/soak-verify.ts'
import type { TallySnapshot } from './lib/tally.ts'
import { slopePerMinute } from './lib/trend.ts'
import { newIdentity, openClient } from './lib/wire-client.ts'

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, minutes: { type: 'string' }, hostile: { type: 'string' }, keep: { type: 'boolean' } },
})
const quick = values.quick === true
const MINUTES = Number(values.minutes ?? (quick ? 1 : 10))
const DURATION_MS = Math.round(MINUTES * 60_000)

/**
 * The relay's config for the soak (written to the temp data dir; the schema is strict). Every other
 * bound against hostile clients runs at its default (values per filter and connection, connections
 * per address, the frame cap, the storage quota, paged queries, the bunker's rate limit, replay
 * memory, pending approvals and scrypt queue).
 */
const SERVER_CONFIG: Record<string, unknown> = {
  // The legitimate load stands for many users but comes from one address (~150 connections);
  // everything else stays at its default, which is what the hostile clients on 127.0.0.2 meet.
  // The per-address work budgets are off by default (see README); a public relay sets them, so the
  // soak runs them at the README's recommended values.
  limits: { maxConnectionsPerIp: 400, maxEventsPerSecondPerIp: 200, maxInputBytesPerSecondPerIp: 2 * 1024 * 1024 },
  bunker: { scryptLogN: 16, aclTimeoutSeconds: 10 },
}
/** Server log level: warnings (one per unreadable flood event) would swamp the pipe to this process. */
const SERVER_LOG_LEVEL = 'error'

/**
 * Hostile clients connect from another loopback address, so per-IP limits can tell them from the
 * legitimate load (~150 connections from 127.0.0.1: size any per-IP connection limit above that).
 */
const HOSTILE_FROM = '127.0.0.2'
const RELAY_PATTERNS = ['hugeFilters', 'count', 'slowReader', 'partialFrames', 'storageFill']
const BUNKER_PATTERNS = ['labelFlood', 'replay', 'scrypt', 'approvals']

/** How hard everything pushes. Rates are totals per second over all connections of a kind. */
const LOAD: SoakLoad = {
  publish: { connections: 4, pubkeys: 50, perSecond: 40 },
  query: { connections: 2, perSecond: 10 },
  churn: { perSecond: 5, maxOpen: 40 },
  sign: { clients: 100, intervalMs: 2000 },
  hostile: {
    enabled:
      values.hostile === 'none'
        ? []
        : (values.hostile?.split(',') ?? [...RELAY_PATTERNS, ...BUNKER_PATTERNS]).filter((p) => [...RELAY_PATTERNS, ...BUNKER_PATTERNS].includes(p)),
    hugeFilters: { connections: 6, values: 32_000, subIds: 60, pauseMs: 500 },
    count: { everyMs: 5000 },
    slowReader: { connections: 2, bytesPerSecond: 64 * 1024 },
    partialFrames: { connections: 64, announcedBytes: 4 * 2 ** 20, sentBytes: 2 ** 20, openPerSecond: 8 },
    storageFill: { eventBytes: 60_000, inFlight: 2, maxBytes: (quick ? 300 : 1500) * 2 ** 20 },
    labelFlood: { perSecond: 50 },
    // one round floods past the relay's and the bunker's 100,000 remembered ids
    replay: { perSecond: quick ? 2000 : 1000, floodEvents: 110_000, throwawayKeys: 1000 },
    scrypt: { inFlight: 8, maxKeys: 500 },
    approvals: { perSecond: 20, clients: 40 },
  },
}

const GOALS = { maxRssMb: 512, probeP99Ms: 100, maxGrowthMbPerMin: 2 }
const SAMPLE_MS = 2000
/** As often as a Prometheus would (15 s is its usual interval); a scrape never overlaps the last. */
const SCRAPE_MS = 15_000
/** Load before the start window opens: JIT, first connections and the signers' first round. */
const WARMUP_MS = quick ? 5000 : 10_000
/** The start (after the warm-up) and end windows the probe and memory are compared over. */
const WINDOW_MS = Math.min(60_000, Math.round((DURATION_MS - WARMUP_MS) / 4))
const VERIFY_BATCH = 100
const MB = 2 ** 20

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (s: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}`)

// ---------------------------------------------------------------- processes and cleanup
const children: Proc[] = []
let server: Nsecrelay | undefined
const killAll = () => {
  for (const p of [...children, ...(server ? [server] : [])]) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
}
const dir = mkdtempSync(join(tmpdir(), 'nsecrelay-soak-'))
// However the run ends, no child outlives it and the data directory (up to the filler's cap) goes.
process.on('exit', () => {
  killAll()
  if (!values.keep) rmSync(dir, { recursive: true, force: true })
})
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130))
const data = join(dir, 'data')
const configFile = join(dir, 'config.json')
writeFileSync(configFile, JSON.stringify(SERVER_CONFIG))
const admin = newIdentity(generateSecretKey())
// The bench must end: setup, run, verification and teardown each have bounds; this is the last one.
const watchdog = setTimeout(
  () => {
    console.error('soak: watchdog fired, the run overran its budget; killing everything')
    process.exit(2)
  },
  DURATION_MS + 10 * 60_000,
)

const startServer = () => startNsecrelay(['--data', data, '--config', configFile, '--admin', admin.pk], { NSECRELAY_LOG_LEVEL: SERVER_LOG_LEVEL })

// ---------------------------------------------------------------- setup through the admin RPC
async function adminClient(url: string, bunkerAdmin: string) {
  const c = await openClient(url)
  c.listen([admin])
  const call = async (method: string, params: string[] = []): Promise<string> => {
    const a = await c.request(admin, bunkerAdmin, method, params, { timeoutMs: 60_000 })
    if (a.outcome !== 'result') throw new Error(`setup: ${method}: ${a.outcome} ${a.text}`)
    return a.text
  }
  return { call, close: () => c.close() }
}

async function setUp(): Promise<SoakSetup> {
  server = await startServer()
  const bunkerAdmin = new URL(server.bunkerUri).hostname
  let rpc = await adminClient(server.url, bunkerAdmin)
  const userNpub = (JSON.parse(await rpc.call('create_new_key', ['soak', 'soak passphrase'])) as { npub: string }).npub
  await rpc.call('create_new_key', ['locked', 'locked passphrase'])
  await rpc.call('create_new_policy', [JSON.stringify({ name: 'soak signers', rules: [{ method: 'sign_event', kind: 1 }] })])
  const policy = (JSON.parse(await rpc.call('get_policies')) as Array<{ id: number; name: string }>).find((p) => p.name === 'soak signers')!
  for (let i = 0; i < LOAD.sign.clients; i++) await rpc.call('create_new_token', ['soak', `signer ${i}`, String(policy.id)])
  const tokens = (JSON.parse(await rpc.call('get_key_tokens', ['soak'])) as Array<{ token: string }>).map((t) => t.token.split('#')[1])
  rpc.close()
  // Keys come back locked after a restart (no vault secret): "locked" stays so, for the scrypt flood.
  await server.stop()
  server = await startServer()
  rpc = await adminClient(server.url, bunkerAdmin)
  const unlocked = JSON.parse(await rpc.call('unlock_key', ['soak', 'soak passphrase'])) as { success: boolean }
  if (!unlocked.success) throw new Error('setup: cannot unlock the soak key')
  rpc.close()
  return {
    url: server.url,
    hostileFrom: HOSTILE_FROM,
    adminSk: bytesToHex(admin.sk),
    bunkerAdmin,
    userKey: { name: 'soak', pubkey: nip19.decode(userNpub).data as string },
    lockedKey: 'locked',
    tokens,
    load: LOAD,
  }
}

interface Child {
  name: string
  proc: Proc
  done?: Record<string, unknown>
}

function spawnChild(name: string, file: string, args: string[]): Child {
  const proc = runTs(file, args, {}, [], { stdin: true })
  proc.proc.stdin!.on('error', () => {}) // a child that died early: its report says so
  children.push(proc)
  return { name, proc }
}

/** Tells a child to stop and waits for its report (bounded), then makes sure it is gone. */
async function finish(child: Child): Promise<void> {
  if (child.proc.proc.exitCode === null) child.proc.proc.stdin!.write('stop\n')
  await child.proc.waitFor(/^done /, 30_000).catch(() => {})
  const line = child.proc.lines.find((l) => l.startsWith('done '))
  if (line) child.done = JSON.parse(line.slice(5))
  else child.done = { failed: `no report; exit ${child.proc.proc.exitCode ?? child.proc.proc.signalCode}; stderr: ${child.proc.stderr.slice(-5).join(' | ')}` }
  await child.proc.stop()
}

// ---------------------------------------------------------------- measuring
interface MemSample extends Memory {
  t: number
  cpu: number
}
interface Scrape {
  t: number
  ms: number
  bytes: number
  /** nsecrelay_bunker_requests_total series: one per (method, outcome) label pair */
  bunkerSeries: number
  error?: string
}

async function scrape(httpUrl: string, t: number): Promise<Scrape> {
  const t0 = performance.now()
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    const bunkerSeries = text.split('\n').filter((l) => l.startsWith('nsecrelay_bunker_requests_total{')).length
    return { t, ms: performance.now() - t0, bytes: text.length, bunkerSeries, error: res.ok ? undefined : `HTTP ${res.status}` }
  } catch (err) {
    return { t, ms: performance.now() - t0, bytes: 0, bunkerSeries: 0, error: (err as Error).message }
  }
}

// ---------------------------------------------------------------- the run
const results: Record<string, unknown> = { quick, minutes: MINUTES, config: SERVER_CONFIG, load: LOAD, goals: GOALS }
let crash: string | undefined
let setup: SoakSetup
try {
  log(`setting up (data ${dir})`)
  setup = await setUp()
} catch (err) {
  console.error(`soak: setup failed: ${(err as Error).message}; server stderr: ${server?.stderr.slice(-5).join(' | ')}`)
  process.exit(1)
}
const setupFile = join(dir, 'setup.json')
writeFileSync(setupFile, JSON.stringify(setup), { mode: 0o600 })
chmodSync(setupFile, 0o600)
const okIdsFile = join(dir, 'ok-ids.json')
const relayHostile = setup.load.hostile.enabled.filter((p) => RELAY_PATTERNS.includes(p))
const bunkerHostile = setup.load.hostile.enabled.filter((p) => BUNKER_PATTERNS.includes(p))
const loadProcs: Child[] = [
  spawnChild('traffic', 'bench/lib/soak-traffic.ts', [setupFile, okIdsFile]),
  spawnChild('signers', 'bench/lib/soak-signers.ts', [setupFile]),
  ...(relayHostile.length ? [spawnChild('hostile (relay)', 'bench/lib/soak-hostile.ts', [setupFile, relayHostile.join(',')])] : []),
  ...(bunkerHostile.length ? [spawnChild('hostile (bunker)', 'bench/lib/soak-hostile.ts', [setupFile, bunkerHostile.join(',')])] : []),
]
try {
  await Promise.all(loadProcs.map((c) => c.proc.waitFor(/^ready$/, 180_000)))
} catch (err) {
  console.error(`soak: a load process did not get ready: ${(err as Error).message}`)
  process.exit(1)
}

const srv = server!
const pid = srv.proc.pid!
const httpUrl = srv.url.replace('ws://', 'http://')
const mem: MemSample[] = []
const scrapes: Scrape[] = []
const sampleMem = (t: number) => {
  try {
    mem.push({ t, ...memoryOf(pid), cpu: cpuSeconds(pid) })
  } catch {} // the process is gone; the exit handler records why
}
for (let i = 0; i < 3; i++) {
  sampleMem(-SAMPLE_MS * (3 - i))
  await sleep(SAMPLE_MS / 2)
}
const baseline = mem.slice()
mem.length = 0
scrapes.push(await scrape(httpUrl, 0))

let endRun: () => void = () => {}
const runEnded = new Promise<void>((r) => (endRun = r))
let t0 = performance.now()
let stopping = false
srv.proc.once('exit', (code, signal) => {
  if (stopping) return
  crash = `relay exited (${signal ?? `code ${code}`}) at ${Math.round((performance.now() - t0) / 1000)} s; stderr: ${srv.stderr.slice(-8).join(' | ')}`
  log(crash)
  endRun()
})
log(`load processes ready; running ${MINUTES} min with hostile patterns: ${setup.load.hostile.enabled.join(', ') || 'none'}`)
for (const c of loadProcs) c.proc.proc.stdin!.write(`go ${DURATION_MS}\n`)
t0 = performance.now()
const elapsed = () => performance.now() - t0
const probe = startProbe(srv.url)
const sampler = setInterval(() => sampleMem(elapsed()), SAMPLE_MS)
let scraping = false
const scraper = setInterval(() => {
  if (crash || scraping) return
  scraping = true
  void scrape(httpUrl, elapsed())
    .then((s) => scrapes.push(s))
    .finally(() => (scraping = false))
}, SCRAPE_MS)
const p99 = (xs: number[]) => round(percentile(xs, 99), 1)
const progress = setInterval(() => {
  const last = mem.at(-1)
  const recent = probe.samples.filter((s) => s.t > elapsed() - 30_000)
  const rss = last ? `${Math.round(last.rss / MB)} MB (anon ${Math.round(last.anon / MB)})` : '-'
  const probeP99 = `publish ${p99(recent.map((s) => s.publishMs))} ms, REQ ${p99(recent.map((s) => s.reqMs))} ms`
  log(`${Math.round(elapsed() / 1000)} s: RSS ${rss}, probe p99 over the last 30 s: ${probeP99}`)
}, 30_000)
setTimeout(endRun, DURATION_MS)
await runEnded
const ranMs = elapsed()
clearInterval(sampler)
clearInterval(scraper)
clearInterval(progress)

log('stopping the load')
await Promise.all([probe.stop(), ...loadProcs.map(finish)])
await sleep(3000) // let the relay settle before the after-load sample
sampleMem(elapsed())
const afterLoad = mem.at(-1)

// ---------------------------------------------------------------- the loss check
log('checking that every OK’d event is still there')
let okIds: string[] = []
let idsProblem: string | undefined
try {
  okIds = JSON.parse(readFileSync(okIdsFile, 'utf8')) as string[]
} catch {
  idsProblem = 'the traffic process left no list of OK’d ids (only the probe’s were checked)'
}
const allIds = [...okIds, ...probe.okIds]
let verification: Verification
let verifiedAfterRestart = false
if (srv.proc.exitCode === null && srv.proc.signalCode === null) verification = await verifyStored(srv.url, allIds, VERIFY_BATCH, 120_000)
else verification = { checked: 0, missing: [], unverified: allIds.length, problems: ['relay not running'] }
if (verification.unverified > 0) {
  // Dead or stuck: what it acknowledged must still be on disk, so ask a fresh process.
  log(`verification incomplete (${verification.problems.join('; ')}); restarting the relay on the same data`)
  stopping = true
  await srv.stop()
  try {
    server = await startServer()
    verification = await verifyStored(server.url, allIds, VERIFY_BATCH, 120_000)
    verifiedAfterRestart = true
  } catch (err) {
    verification.problems.push(`restart failed: ${(err as Error).message}`)
  }
}
stopping = true
await server?.stop()
clearTimeout(watchdog)

// ---------------------------------------------------------------- report
const inWindow = <T extends { t: number }>(xs: T[], from: number, to: number) => xs.filter((x) => x.t >= from && x.t < to)
const pct = (xs: number[], p: number) => round(percentile(xs, p), 2)
const times = (xs: ProbeSample[]) => ({ publish: xs.map((s) => s.publishMs), req: xs.map((s) => s.reqMs) })
function probeRow(window: string, xs: ProbeSample[]) {
  const { publish, req } = times(xs)
  const failed = xs.filter((s) => s.outcome !== 'ok').length
  return {
    window,
    rounds: xs.length,
    failed,
    'publish p50 ms': pct(publish, 50),
    'publish p99 ms': pct(publish, 99),
    'REQ p50 ms': pct(req, 50),
    'REQ p99 ms': pct(req, 99),
  }
}
const startName = `${WARMUP_MS / 1000}-${(WARMUP_MS + WINDOW_MS) / 1000} s`
const startWindow = inWindow(probe.samples, WARMUP_MS, WARMUP_MS + WINDOW_MS)
const endWindow = inWindow(probe.samples, ranMs - WINDOW_MS, ranMs + 1)
const probeRows = [probeRow(startName, startWindow), probeRow(`last ${WINDOW_MS / 1000} s`, endWindow), probeRow('whole run', probe.samples)]
/** The worse of the two round trips' p99s. */
const p99Of = (xs: ProbeSample[]) => Math.max(pct(times(xs).publish, 99), pct(times(xs).req, 99))

const mb = (b: number | undefined) => (b === undefined ? Number.NaN : round(b / MB, 1))
const maxOf = (xs: MemSample[], k: keyof Memory) => (xs.length ? Math.max(...xs.map((x) => x[k])) : Number.NaN)
const cpuShare = (xs: MemSample[]) => (xs.length > 1 ? round((100 * (xs.at(-1)!.cpu - xs[0].cpu)) / ((xs.at(-1)!.t - xs[0].t) / 1000), 0) : Number.NaN)
const memRow = (phase: string, xs: MemSample[]) => ({
  phase,
  'RSS MB': mb(maxOf(xs, 'rss')),
  'anon MB': mb(maxOf(xs, 'anon')),
  'file MB': mb(maxOf(xs, 'file')),
  'relay CPU %': cpuShare(xs),
})
const secondHalf = inWindow(mem, ranMs / 2, ranMs + 1)
const growth = {
  rss: round(slopePerMinute(secondHalf.map((m) => ({ t: m.t, y: m.rss / MB }))), 2),
  anon: round(slopePerMinute(secondHalf.map((m) => ({ t: m.t, y: m.anon / MB }))), 2),
  file: round(slopePerMinute(secondHalf.map((m) => ({ t: m.t, y: m.file / MB }))), 2),
}
const memRows = [
  memRow('before load', baseline),
  memRow(`${startName} (max)`, inWindow(mem, WARMUP_MS, WARMUP_MS + WINDOW_MS)),
  memRow(`last ${WINDOW_MS / 1000} s (max)`, inWindow(mem, ranMs - WINDOW_MS, ranMs + 1)),
  memRow('whole run (max)', mem),
  memRow('after load, 3 s settled', afterLoad ? [afterLoad] : []),
]
const maxRss = maxOf(mem, 'rss') / MB

const reports = Object.fromEntries(loadProcs.map((c) => [c.name, c.done ?? {}])) as Record<string, Record<string, unknown>>
const traffic = reports.traffic as Partial<TallySnapshot>
const signers = reports.signers as Partial<TallySnapshot>
const lat = (s: Partial<TallySnapshot>, k: string) => s.latency?.[k]
const counts = (s: Partial<TallySnapshot>, prefix: string) =>
  Object.entries(s.counts ?? {})
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => `${v} ${k.slice(prefix.length).trim() || k}`)
    .join(', ') || 'none'
const legitRows = [
  {
    load: `publish (${LOAD.publish.perSecond}/s, ${LOAD.publish.pubkeys} pubkeys)`,
    outcomes: counts(traffic, 'publish '),
    'p50 ms': lat(traffic, 'publish')?.p50,
    'p99 ms': lat(traffic, 'publish')?.p99,
  },
  { load: 'query (small REQs)', outcomes: counts(traffic, 'query '), 'p50 ms': lat(traffic, 'query')?.p50, 'p99 ms': lat(traffic, 'query')?.p99 },
  { load: 'churn (connect, REQ, leave)', outcomes: counts(traffic, 'churn '), 'p50 ms': undefined, 'p99 ms': undefined },
  {
    load: `sign_event (${LOAD.sign.clients} clients)`,
    outcomes: counts(signers, 'sign '),
    'p50 ms': lat(signers, 'sign')?.p50,
    'p99 ms': lat(signers, 'sign')?.p99,
  },
  { load: 'signer sockets', outcomes: counts(signers, 'signer '), 'p50 ms': undefined, 'p99 ms': undefined },
]
const patterns = Object.assign({}, ...Object.values(reports).map((r) => (r.patterns ?? {}) as Record<string, TallySnapshot>)) as Record<string, TallySnapshot>
const hostileRows = Object.entries(patterns).map(([pattern, s]) => ({
  pattern,
  outcomes:
    Object.entries(s.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'none',
  latency: Object.entries(s.latency)
    .map(([k, v]) => `${k} p50 ${v.p50} p99 ${v.p99} max ${v.max} (n ${v.n})`)
    .join('; '),
}))
const scrapeOk = scrapes.filter((s) => !s.error)
const scrapeRow = (which: string, s: Scrape | undefined) => ({
  scrape: which,
  ms: s ? round(s.ms, 1) : undefined,
  KB: s ? round(s.bytes / 1024, 1) : undefined,
  'bunker series': s?.bunkerSeries,
})
const scrapeRows = [
  scrapeRow('first', scrapeOk[0]),
  scrapeRow('last', scrapeOk.at(-1)),
  { scrape: 'slowest', ms: round(Math.max(...scrapes.map((s) => s.ms)), 1), KB: undefined, 'bunker series': undefined },
  { scrape: 'failed', ms: scrapes.length - scrapeOk.length, KB: undefined, 'bunker series': undefined },
]

const lost = verification.missing.length
const pass = (ok: boolean) => (ok ? 'pass' : 'FAIL')
const goals = [
  { goal: 'relay stays up', measured: crash ?? `up for ${round(ranMs / 1000, 0)} s`, result: pass(!crash) },
  { goal: `RSS < ${GOALS.maxRssMb} MB`, measured: `max ${round(maxRss, 1)} MB`, result: pass(maxRss < GOALS.maxRssMb) },
  {
    goal: `probe p99 < ${GOALS.probeP99Ms} ms at start (${startName})`,
    measured: `${round(p99Of(startWindow), 1)} ms`,
    result: pass(p99Of(startWindow) < GOALS.probeP99Ms),
  },
  {
    goal: `probe p99 < ${GOALS.probeP99Ms} ms at end (last ${WINDOW_MS / 1000} s)`,
    measured: `${round(p99Of(endWindow), 1)} ms`,
    result: pass(p99Of(endWindow) < GOALS.probeP99Ms),
  },
  {
    goal: 'no OK’d event lost',
    measured: `${lost} missing of ${allIds.length}${idsProblem ? `; ${idsProblem}` : ''}${verification.unverified ? `, ${verification.unverified} unverified (${verification.problems.join('; ')})` : ''}${verifiedAfterRestart ? ', checked after a restart' : ''}`,
    result: pass(lost === 0 && verification.unverified === 0 && !idsProblem),
  },
  {
    goal: `no growth trend (anon RSS, second half) <= ${GOALS.maxGrowthMbPerMin} MB/min`,
    measured: `${growth.anon} MB/min (total RSS ${growth.rss}, file-backed ${growth.file})`,
    result: pass(growth.anon <= GOALS.maxGrowthMbPerMin),
  },
]
const failed = goals.filter((g) => g.result !== 'pass').length

console.log(`\n## bench:soak, ${round(ranMs / 60_000, 2)} min, hostile: ${setup.load.hostile.enabled.join(', ') || 'none'}\n`)
console.log(`### goals\n${table(goals)}\n`)
console.log(
  `### relay memory and CPU\n${table(memRows)}\ngrowth over the second half: RSS ${growth.rss} MB/min, anon ${growth.anon}, file-backed ${growth.file}\n`,
)
console.log(`### probe (publish -> OK, then REQ by id -> EOSE; a failed step counts as 5000 ms)\n${table(probeRows)}\n`)
console.log(`### legitimate load\n${table(legitRows)}\n`)
console.log(`### /metrics scrapes\n${table(scrapeRows)}\n`)
if (hostileRows.length) {
  console.log(`### hostile patterns\n${table(hostileRows.map(({ pattern, outcomes }) => ({ pattern, outcomes })))}\n`)
  for (const r of hostileRows) if (r.latency) console.log(`${r.pattern}: ${r.latency}`)
  for (const [pattern, s] of Object.entries(patterns)) for (const n of s.notes) console.log(`${pattern}: ${n}`)
}
for (const [name, r] of Object.entries(reports)) if (r.failed || r.uncaught) console.log(`${name}: ${r.failed ?? `${r.uncaught} uncaught errors`}`)
if (lost) console.log(`missing ids (first 10): ${verification.missing.slice(0, 10).join(' ')}`)

Object.assign(results, {
  ranSeconds: round(ranMs / 1000, 1),
  crash,
  goals,
  memory: memRows,
  growthMbPerMinute: growth,
  probe: probeRows,
  legitimate: legitRows,
  scrapes: scrapeRows,
  hostile: hostileRows,
  verification: { ...verification, missing: verification.missing.slice(0, 100), ids: allIds.length, afterRestart: verifiedAfterRestart },
  reports,
  samples: { memory: mem.map((m) => ({ t: Math.round(m.t), rss: m.rss, anon: m.anon, file: m.file, cpu: m.cpu })), probe: probe.samples, scrapes },
})
const name = quick || values.minutes || values.hostile ? 'soak-partial' : 'soak'
console.log(`\nwritten ${writeResults(name, results)}`)
process.exit(failed ? 1 : 0)
