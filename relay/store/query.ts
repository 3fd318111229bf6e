// Stored queries as cursors. Each filter walks its index prefixes (plan.ts, walk.ts); the walks of
// every filter of a REQ are merged in NIP-01 order (newest first, ties by lowest id), each filter
// keeping its own limit, an event shared by several filters or prefixes given once. A cursor holds
// a bounded read-ahead of index entries ([created_at, id]) and no read transaction between calls,
// so it can be paged across event-loop turns while writes go on.
import type { NormFilter } from '../filter.ts'
import { plan } from './plan.ts'
import { fill, idsWalk, loadJson, newWalk, type ReadStats, type Run, type Scan, type Walk } from './walk.ts'
import type { StoreDbs } from './write.ts'

export type { ReadStats }

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
  /** Most index entries read ahead, over all the walks of the cursor. */
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

interface State extends Scan {
  count: boolean
  /** Walks with a read-ahead, ordered by their next entry. */
  heap: Walk[]
  /** Walks to read before the next match can be chosen. */
  pending: Walk[]
}

const DEFAULT_READ_AHEAD = 1024

/** NIP-01 order of two walks' next entries. Negative: a comes first. */
function order(a: Walk, b: Walk): number {
  const d = b.ts[b.pos] - a.ts[a.pos]
  if (d !== 0) return d
  const x = a.ids[a.pos]
  const y = b.ids[b.pos]
  return x < y ? -1 : x > y ? 1 : 0
}

function heapPush(h: Walk[], w: Walk): void {
  let i = h.push(w) - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (order(h[p], h[i]) <= 0) break
    const t = h[p]
    h[p] = h[i]
    h[i] = t
    i = p
  }
}

function heapPop(h: Walk[]): Walk {
  const top = h[0]
  const last = h.pop()!
  if (h.length === 0) return top
  h[0] = last
  for (let i = 0; ; ) {
    const l = 2 * i + 1
    let m = i
    if (l < h.length && order(h[l], h[m]) < 0) m = l
    if (l + 1 < h.length && order(h[l + 1], h[m]) < 0) m = l + 1
    if (m === i) return top
    const t = h[m]
    h[m] = h[i]
    h[i] = t
    i = m
  }
}

function requeue(st: State, w: Walk): void {
  if (w.run.done) return
  if (w.pos < w.ids.length) heapPush(st.heap, w)
  else if (!w.end) st.pending.push(w)
}

function nextMatch(st: State, work: number): Found | 'busy' | 'done' {
  const stop = st.examined + work
  for (;;) {
    while (st.pending.length > 0) {
      if (st.examined >= stop) return 'busy'
      const w = st.pending.pop()!
      if (w.run.done) continue
      fill(st, w)
      requeue(st, w)
    }
    const { heap } = st
    if (heap.length === 0) return 'done'
    const ts = heap[0].ts[heap[0].pos]
    const id = heap[0].ids[heap[0].pos]
    let counted = false
    while (heap.length > 0 && heap[0].ts[heap[0].pos] === ts && heap[0].ids[heap[0].pos] === id) {
      const w = heapPop(heap)
      w.pos++
      const run = w.run
      if (!run.done && run.last !== id) {
        run.last = id
        counted = true
        if (++run.taken >= run.limit) run.done = true
      }
      requeue(st, w)
    }
    if (!counted) continue
    if (st.count) return { id, created_at: ts, json: '' }
    const json = loadJson(st, id) // gone if deleted or replaced since it was read: skipped
    if (json !== undefined) return { id, created_at: ts, json }
  }
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
  let walks = 0
  for (const run of runs) if (!run.done) walks += run.f.ids ? 1 : run.plan.prefixes.length
  const st: State = {
    dbs,
    now: opts.now,
    reads,
    examined: 0,
    truncated: false,
    maxChunk: Math.max(2, Math.min(256, Math.floor((opts.readAhead ?? DEFAULT_READ_AHEAD) / Math.max(1, walks)))),
    count,
    heap: [],
    pending: [],
  }
  for (const run of runs) {
    if (run.done) continue
    if (run.f.ids) requeue(st, idsWalk(st, run))
    else for (const prefix of run.plan.prefixes) st.pending.push(newWalk(run, prefix))
  }
  return {
    next(work) {
      return nextMatch(st, work)
    },
    get examined() {
      return st.examined
    },
    get truncated() {
      return st.truncated
    },
  }
}
