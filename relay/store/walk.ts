// One index walk of a stored query: the entries under one index prefix (plan.ts), newest first and,
// within one created_at, lowest id first (NIP-01). The index holds ids ascending under a timestamp,
// so a reverse read in chunks keeps the ties it cut for a forward read of that timestamp. Each read
// resumes from a key: nothing is held open between reads. Module-level functions over plain state:
// a cursor is opened per REQ, and nested closures would be rebuilt each time.
import type { NostrEvent } from '../event.ts'
import { matchFilter, type NormFilter } from '../filter.ts'
import { valueExpiry, valueKind, type IndexKey } from './keys.ts'
import type { Plan } from './plan.ts'
import type { StoreDbs } from './write.ts'

/** Reads of event bodies, for tests and metrics: COUNT must not move it. */
export interface ReadStats {
  bodies: number
}

/** What every walk of one cursor shares. */
export interface Scan {
  dbs: StoreDbs
  now: number
  reads: ReadStats
  /** Index entries and lookups examined so far. */
  examined: number
  /** A filter ran out of its budget. */
  truncated: boolean
  /** Most entries one read takes. */
  maxChunk: number
}

/** One filter of the query. */
export interface Run {
  f: NormFilter
  plan: Plan
  limit: number
  taken: number
  /** Index entries it may still examine. */
  budget: number
  done: boolean
  /** Id of the last match counted for it, so a match found under two prefixes counts once. */
  last: string
}

export interface Walk {
  run: Run
  prefix: IndexKey
  /** Exclusive lower bound of reverse reads: [...prefix, since]. */
  lower: IndexKey
  /** The next reverse read starts below this key. */
  upper: IndexKey
  /** >= 0: reading the entries that share this created_at, forward. */
  groupTs: number
  /** The last id read in group mode. */
  after?: string
  /** Read ahead, in NIP-01 order, from `pos` on. */
  ts: number[]
  ids: string[]
  pos: number
  /** The index has nothing more for this walk. */
  end: boolean
}

export function newWalk(run: Run, prefix: IndexKey): Walk {
  const top = run.f.until === undefined ? Number.MAX_SAFE_INTEGER : run.f.until + 1
  return { run, prefix, lower: [...prefix, run.f.since ?? 0], upper: [...prefix, top], groupTs: -1, ts: [], ids: [], pos: 0, end: false }
}

function charge(sc: Scan, run: Run, n: number): void {
  sc.examined += n
  run.budget -= n
}

export function loadJson(sc: Scan, id: string): string | undefined {
  sc.reads.bodies++
  return sc.dbs.events.get(id)
}

function isExpired(e: NostrEvent, now: number): boolean {
  for (const t of e.tags) if (t[0] === 'expiration') return Number(t[1]) > 0 && Number(t[1]) <= now
  return false
}

/** Whether an index entry matches what its walk does not already imply. */
function accept(sc: Scan, run: Run, ts: number, id: string, value: number): boolean {
  const exp = valueExpiry(value)
  if (exp !== 0 && exp <= sc.now) return false
  const p = run.plan
  if (p.kindCheck && !run.f.kinds!.has(valueKind(value))) return false
  if (p.tagChecks)
    for (const [letter, values] of p.tagChecks) {
      let found = false
      for (const v of values) {
        charge(sc, run, 1)
        if (sc.dbs.index.doesExist(['t', letter, v, ts, id])) {
          found = true
          break
        }
      }
      if (!found) return false
    }
  if (p.bodyCheck) {
    const json = loadJson(sc, id)
    if (json === undefined || !matchFilter(run.f, JSON.parse(json) as NostrEvent)) return false
  }
  return true
}

function take(sc: Scan, w: Walk, ts: number, id: string, value: number): void {
  if (!accept(sc, w.run, ts, id, value)) return
  w.ts.push(ts)
  w.ids.push(id)
}

const tsOf = (key: IndexKey): number => key[key.length - 2] as number
const idOf = (key: IndexKey): string => key[key.length - 1] as string

/** Reverse read of up to `want` entries; the timestamp it cut is left for a forward group read. */
function scan(sc: Scan, w: Walk, want: number): void {
  const keys: IndexKey[] = []
  const values: number[] = []
  for (const { key, value } of sc.dbs.index.getRange({ start: w.upper, end: w.lower, reverse: true, limit: want })) {
    keys.push(key)
    values.push(value)
  }
  charge(sc, w.run, keys.length)
  let complete = keys.length
  if (keys.length === want) {
    w.groupTs = tsOf(keys[want - 1])
    w.after = undefined
    while (complete > 0 && tsOf(keys[complete - 1]) === w.groupTs) complete--
  } else w.end = true
  for (let i = 0; i < complete; ) {
    let j = i
    while (j + 1 < complete && tsOf(keys[j + 1]) === tsOf(keys[i])) j++
    for (let k = j; k >= i; k--) take(sc, w, tsOf(keys[k]), idOf(keys[k]), values[k])
    i = j + 1
  }
}

/** Forward read of the entries sharing created_at `groupTs`, lowest id first. */
function group(sc: Scan, w: Walk, want: number): void {
  const t = w.groupTs
  const start = w.after === undefined ? [...w.prefix, t] : [...w.prefix, t, w.after]
  let n = 0
  for (const { key, value } of sc.dbs.index.getRange({ start, end: [...w.prefix, t + 1], exclusiveStart: w.after !== undefined, limit: want })) {
    n++
    w.after = idOf(key)
    take(sc, w, t, w.after, value)
  }
  charge(sc, w.run, n)
  if (n < want) {
    w.groupTs = -1
    w.upper = [...w.prefix, t]
  }
}

/** Replaces the walk's read-ahead with its next chunk (possibly empty: call again unless `end`). */
export function fill(sc: Scan, w: Walk): void {
  w.ts.length = 0
  w.ids.length = 0
  w.pos = 0
  const run = w.run
  if (run.budget <= 0) {
    sc.truncated = true
    w.end = true
    return
  }
  const want = Math.max(2, Math.min(run.limit - run.taken + 1, sc.maxChunk))
  if (w.groupTs >= 0) group(sc, w, want)
  else scan(sc, w, want)
}

/** An `ids` filter reads each event (how many is bounded by filter validation), all at once. */
export function idsWalk(sc: Scan, run: Run): Walk {
  const found: Array<[number, string]> = []
  for (const id of run.f.ids!) {
    charge(sc, run, 1)
    const json = loadJson(sc, id)
    if (json === undefined) continue
    const e = JSON.parse(json) as NostrEvent
    if (matchFilter(run.f, e) && !isExpired(e, sc.now)) found.push([e.created_at, id])
  }
  found.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1))
  const w = newWalk(run, [])
  for (const [ts, id] of found) {
    w.ts.push(ts)
    w.ids.push(id)
  }
  w.end = true
  return w
}
