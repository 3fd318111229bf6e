// Stored queries as cursors. Each filter walks its index prefixes (plan.ts) newest first; the walks
// of every filter of a REQ are merged in NIP-01 order (newest first, ties by lowest id), each filter
// keeping its own limit, an event shared by several filters or prefixes given once. A cursor holds
// only a bounded read-ahead of index entries ([created_at, id]) and never a read transaction between
// calls: each read resumes from a key, so it can be paged across event-loop turns while writes go on.
import type { NostrEvent } from '../event.ts'
import { matchFilter, type NormFilter } from '../filter.ts'
import { valueExpiry, valueKind, type IndexKey } from './keys.ts'
import { plan, type Plan } from './plan.ts'
import type { StoreDbs } from './write.ts'

export interface Found {
  id: string
  created_at: number
  /** The event's JSON text; "" from a COUNT cursor, which never loads events. */
  json: string
}

export interface CursorOptions {
  now: number
  /** Most index entries (and index lookups) one filter may examine over the cursor's life. */
  scanBudget: number
  /** COUNT: decide matches from the index, never loading an event where the index can tell. */
  count?: boolean
  /** Most index entries read ahead, over all the walks of the cursor (read in chunks). */
  readAhead?: number
}

export interface Cursor {
  /** The next match; 'busy' once `work` more index entries were examined without one; or 'done'. */
  next(work: number): Found | 'busy' | 'done'
  /** Index entries and lookups examined so far. */
  readonly examined: number
  /** A filter ran out of its scan budget: what was returned is not everything that matches. */
  readonly truncated: boolean
}

/** Reads of event bodies, for tests and metrics: COUNT must not move it. */
export interface ReadStats {
  bodies: number
}

interface Run {
  f: NormFilter
  plan: Plan
  limit: number
  taken: number
  budget: number
  done: boolean
  /** Id of the last match counted for this filter, so a match found under two prefixes counts once. */
  last: string
}

interface Source {
  run: Run
  prefix: IndexKey
  /** Exclusive lower bound of reverse walks: [...prefix, since]. */
  lower: IndexKey
  /** Scan mode: the next reverse walk starts below this key. */
  upper: IndexKey
  /** >= 0: reading the entries that share this created_at, forward (lowest id first). */
  groupTs: number
  /** Group mode: the last id read. */
  after?: string
  ts: number[]
  ids: string[]
  pos: number
  /** The index has nothing more for this walk (the read-ahead may still hold entries). */
  end: boolean
}

const DEFAULT_READ_AHEAD = 1024

/** NIP-01 order of two heads: newest first, ties by lowest id. Negative: a comes first. */
function order(a: Source, b: Source): number {
  const d = b.ts[b.pos] - a.ts[a.pos]
  if (d !== 0) return d
  const x = a.ids[a.pos]
  const y = b.ids[b.pos]
  return x < y ? -1 : x > y ? 1 : 0
}

function heapPush(h: Source[], s: Source): void {
  let i = h.push(s) - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (order(h[p], h[i]) <= 0) break
    ;[h[p], h[i]] = [h[i], h[p]]
    i = p
  }
}

function heapPop(h: Source[]): Source {
  const top = h[0]
  const last = h.pop()!
  if (h.length > 0) {
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && order(h[l], h[m]) < 0) m = l
      if (r < h.length && order(h[r], h[m]) < 0) m = r
      if (m === i) break
      ;[h[m], h[i]] = [h[i], h[m]]
      i = m
    }
  }
  return top
}

const isExpired = (e: NostrEvent, now: number): boolean => {
  for (const t of e.tags) if (t[0] === 'expiration') return Number(t[1]) > 0 && Number(t[1]) <= now
  return false
}

export function openCursor(dbs: StoreDbs, filters: Array<{ filter: NormFilter; limit: number }>, opts: CursorOptions, reads: ReadStats): Cursor {
  const count = opts.count === true
  const runs: Run[] = filters.map(({ filter, limit }) => ({
    f: filter,
    plan: filter.ids ? { prefixes: [], kindCheck: false, bodyCheck: true } : plan(filter, count),
    limit,
    taken: 0,
    budget: opts.scanBudget,
    done: limit <= 0,
    last: '',
  }))
  const heap: Source[] = []
  const pending: Source[] = []
  let examined = 0
  let truncated = false

  const sourceCount = runs.reduce((n, r) => n + (r.done ? 0 : r.f.ids ? 1 : r.plan.prefixes.length), 0)
  const maxChunk = Math.max(2, Math.min(256, Math.floor((opts.readAhead ?? DEFAULT_READ_AHEAD) / Math.max(1, sourceCount))))

  function charge(run: Run, n: number): void {
    examined += n
    run.budget -= n
  }

  function loadJson(id: string): string | undefined {
    reads.bodies++
    return dbs.events.get(id)
  }

  /** Whether an index entry matches what its walk does not already imply. */
  function accept(run: Run, ts: number, id: string, value: number): boolean {
    const exp = valueExpiry(value)
    if (exp !== 0 && exp <= opts.now) return false
    const p = run.plan
    if (p.kindCheck && !run.f.kinds!.has(valueKind(value))) return false
    if (p.tagChecks)
      for (const [letter, values] of p.tagChecks) {
        let found = false
        for (const v of values) {
          charge(run, 1)
          if (dbs.index.doesExist(['t', letter, v, ts, id])) {
            found = true
            break
          }
        }
        if (!found) return false
      }
    if (p.bodyCheck) {
      const json = loadJson(id)
      if (json === undefined || !matchFilter(run.f, JSON.parse(json) as NostrEvent)) return false
    }
    return true
  }

  /** Reverse walk of up to `want` entries; ties at the cut are left for a forward group read. */
  function scan(s: Source, want: number): void {
    const keys: IndexKey[] = []
    const values: number[] = []
    for (const { key, value } of dbs.index.getRange({ start: s.upper, end: s.lower, reverse: true, limit: want })) {
      keys.push(key)
      values.push(value)
    }
    charge(s.run, keys.length)
    const tsAt = (i: number) => keys[i][keys[i].length - 2] as number
    let complete = keys.length
    if (keys.length === want) {
      s.groupTs = tsAt(keys.length - 1)
      s.after = undefined
      while (complete > 0 && tsAt(complete - 1) === s.groupTs) complete--
    } else s.end = true
    // Reverse order within a tie: the index holds ids ascending, NIP-01 wants the lowest first.
    for (let i = 0; i < complete; ) {
      let j = i
      while (j + 1 < complete && tsAt(j + 1) === tsAt(i)) j++
      for (let k = j; k >= i; k--) {
        const id = keys[k][keys[k].length - 1] as string
        if (accept(s.run, tsAt(k), id, values[k])) {
          s.ts.push(tsAt(k))
          s.ids.push(id)
        }
      }
      i = j + 1
    }
  }

  /** Forward read of the entries sharing created_at `groupTs`, lowest id first. */
  function group(s: Source, want: number): void {
    const t = s.groupTs
    const start = s.after === undefined ? [...s.prefix, t] : [...s.prefix, t, s.after]
    let n = 0
    for (const { key, value } of dbs.index.getRange({ start, end: [...s.prefix, t + 1], exclusiveStart: s.after !== undefined, limit: want })) {
      n++
      const id = key[key.length - 1] as string
      s.after = id
      if (accept(s.run, t, id, value)) {
        s.ts.push(t)
        s.ids.push(id)
      }
    }
    charge(s.run, n)
    if (n < want) {
      s.groupTs = -1
      s.upper = [...s.prefix, t]
    }
  }

  function fill(s: Source): void {
    s.ts.length = 0
    s.ids.length = 0
    s.pos = 0
    const run = s.run
    if (run.budget <= 0) {
      truncated = true
      s.end = true
      return
    }
    const want = Math.max(2, Math.min(run.limit - run.taken + 1, maxChunk))
    if (s.groupTs >= 0) group(s, want)
    else scan(s, want)
  }

  /** `ids` filters: read each event (their number is bounded by filter validation). */
  function idsSource(run: Run): Source {
    const found: Array<[number, string]> = []
    for (const id of run.f.ids!) {
      charge(run, 1)
      const json = loadJson(id)
      if (json === undefined) continue
      const e = JSON.parse(json) as NostrEvent
      if (matchFilter(run.f, e) && !isExpired(e, opts.now)) found.push([e.created_at, id])
    }
    found.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1))
    return { ...newSource(run, []), ts: found.map((x) => x[0]), ids: found.map((x) => x[1]), end: true }
  }

  function newSource(run: Run, prefix: IndexKey): Source {
    const top = run.f.until === undefined ? Number.MAX_SAFE_INTEGER : run.f.until + 1
    return { run, prefix, lower: [...prefix, run.f.since ?? 0], upper: [...prefix, top], groupTs: -1, ts: [], ids: [], pos: 0, end: false }
  }

  function requeue(s: Source): void {
    if (s.run.done) return
    if (s.pos < s.ids.length) heapPush(heap, s)
    else if (!s.end) pending.push(s)
  }

  for (const run of runs) {
    if (run.done) continue
    if (run.f.ids) requeue(idsSource(run))
    else for (const prefix of run.plan.prefixes) pending.push(newSource(run, prefix))
  }

  function next(work: number): Found | 'busy' | 'done' {
    const stop = examined + work
    for (;;) {
      while (pending.length > 0) {
        if (examined >= stop) return 'busy'
        const s = pending.pop()!
        if (s.run.done) continue
        fill(s)
        requeue(s)
      }
      if (heap.length === 0) return 'done'
      const top = heap[0]
      const ts = top.ts[top.pos]
      const id = top.ids[top.pos]
      let counted = false
      while (heap.length > 0 && heap[0].ts[heap[0].pos] === ts && heap[0].ids[heap[0].pos] === id) {
        const s = heapPop(heap)
        s.pos++
        const run = s.run
        if (!run.done && run.last !== id) {
          run.last = id
          counted = true
          if (++run.taken >= run.limit) run.done = true
        }
        requeue(s)
      }
      if (!counted) continue
      if (count) return { id, created_at: ts, json: '' }
      const json = loadJson(id) // gone if deleted or replaced since it was read: skipped
      if (json !== undefined) return { id, created_at: ts, json }
    }
  }

  return {
    next,
    get examined() {
      return examined
    },
    get truncated() {
      return truncated
    },
  }
}
