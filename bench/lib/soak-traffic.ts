// The soak's legitimate relay traffic, in its own process: publishers (distinct pubkeys, small
// kind-1 events, no expiration, at a bounded rate), queries (small REQs closed after EOSE) and
// reconnect churn. Writes the ids the relay OK'd to <okIdsFile> (JSON) for the loss check.
// Usage: soak-traffic.ts <setupFile> <okIdsFile>
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { signEvent } from '../../plugin/bunker/sign.ts'
import { atRate } from './rate.ts'
import { reconnecting } from './reconnecting.ts'
import { childControl, readSetup } from './soak-child.ts'
import type { SoakSetup } from './soak-setup.ts'
import { createTally, prefixOf } from './tally.ts'
import { newIdentity, openClient, seconds, type Answer } from './wire-client.ts'

const [setupFile, okIdsFile] = process.argv.slice(2)
const setup = readSetup<SoakSetup>(setupFile)
const { url, load } = setup
const ctl = childControl()
const tally = createTally()
const okIds: string[] = []
const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)]

const authors = Array.from({ length: load.publish.pubkeys }, () => newIdentity())
const pubConns = Array.from({ length: load.publish.connections }, () => reconnecting(url, ctl, tally, 'publisher'))
const queryConns = Array.from({ length: load.query.connections }, () => reconnecting(url, ctl, tally, 'query'))

/** Counts an answer under `what`: ok, the refusal's prefix, timeout, gone. */
function record(what: string, a: Answer): void {
  tally.count(`${what} ${a.outcome === 'refused' || a.outcome === 'closed' ? `${a.outcome} ${prefixOf(a.text)}` : a.outcome}`)
  if (a.outcome === 'refused' || a.outcome === 'closed') tally.note(`${what}: ${a.text.slice(0, 120)}`)
}

let serial = 0
async function publishOne(): Promise<void> {
  const c = pick(pubConns).current()
  if (!c || c.buffered() > 1_000_000) return tally.count('publish skipped (no connection or backlog)')
  const author = authors[serial % authors.length]
  const event = signEvent(
    { kind: 1, created_at: seconds(), tags: [['t', 'soak']], content: `soak ${serial++} ${randomBytes(6).toString('hex')}` },
    author.sk,
    author.pk,
  )
  const a = await c.publish(event, 10_000)
  record('publish', a)
  if (a.outcome === 'ok') {
    okIds.push(event.id)
    tally.sample('publish', a.ms)
  }
}

let queries = 0
async function queryOne(): Promise<void> {
  const c = pick(queryConns).current()
  if (!c || c.buffered() > 1_000_000) return tally.count('query skipped (no connection or backlog)')
  const filter = pick([
    () => ({ authors: [pick(authors).pk], limit: 20 }),
    () => ({ kinds: [1], '#t': ['soak'], limit: 50 }),
    () => ({ kinds: [1], since: seconds() - 60, limit: 100 }),
  ])()
  const a = await c.req(`q${queries++}`, [filter], { timeoutMs: 10_000, close: true })
  record('query', a)
  if (a.outcome === 'eose') tally.sample('query', a.ms)
}

let churnOpen = 0
async function churnOne(): Promise<void> {
  if (churnOpen >= load.churn.maxOpen) return tally.count('churn skipped (max open)')
  churnOpen++
  try {
    const c = await openClient(url, 5000)
    tally.count('churn opened')
    const a = await c.req('live', [{ kinds: [1], '#t': ['soak'], limit: 5 }], { timeoutMs: 10_000 })
    record('churn REQ', a)
    await ctl.sleep(1000 + Math.random() * 4000)
    // half say goodbye, half just vanish
    if (Math.random() < 0.5) c.close()
    else c.terminate()
  } catch {
    tally.count('churn connect failed')
  } finally {
    churnOpen--
  }
}

async function work(): Promise<void> {
  const paced = [
    atRate(ctl, load.publish.perSecond, publishOne, { maxInFlight: 500, onSkip: () => tally.count('publish skipped (in flight)') }),
    atRate(ctl, load.query.perSecond, queryOne, { maxInFlight: 100, onSkip: () => tally.count('query skipped (in flight)') }),
    atRate(ctl, load.churn.perSecond, churnOne, { maxInFlight: load.churn.maxOpen }),
  ]
  await Promise.all(paced.map((p) => p.done)) // answers still due have come in (or their wait passed)
  for (const c of [...pubConns, ...queryConns]) c.close()
}

await ctl.run({
  prepare: () => Promise.all([...pubConns, ...queryConns].map((c) => c.ready)),
  work,
  report() {
    writeFileSync(okIdsFile, JSON.stringify(okIds))
    return { role: 'traffic', okIds: okIds.length, ...tally.snapshot() }
  },
})
