// Stored results go out in pages, under the connection's backpressure. A REQ's stored part and a
// COUNT are "streams": each step is bounded (events, bytes, index entries examined), a page that
// fills the socket past the high-water mark pauses the connection's streams until uWS reports the
// socket drained, and other connections run between pages. A small result still completes in the
// turn that handled its frame, EOSE included, as before.
//
// Live events for a subscription whose stored part is still streaming are held (bounded per
// connection) and sent right after its EOSE: before EOSE a client sees only stored events, newest
// first, and while the stream is paused for a slow reader live events wait here rather than push the
// socket into the slow-consumer close. When the hold is full, what is held goes out at once and later
// live events for that stream are sent as they come: an event is never dropped for lack of room.
// A stored event that is also held as live is sent once, after EOSE.
// A stream that fails (a storage error) ends with CLOSED "error:"; the connection goes on.
//
// CLOSE, a REQ that replaces the subscription, and a disconnect stop the stream at once and free its
// cursor and held events.
import type { NostrEvent } from './event.ts'
import type { NormFilter } from './filter.ts'
import * as frames from './messages.ts'
import type { Cursor } from './store/store.ts'

export interface QuerySettings {
  /** Most events one page sends before the stream lets other work run. */
  pageEvents: number
  /** Most bytes one page sends (at least one event goes out). */
  pageBytes: number
  /** Most index entries one page, or one COUNT step, examines. */
  pageWork: number
  /** Streams pause while the socket holds more unsent bytes than this; they resume below half. */
  highWaterBytes: number
  /** Streams (stored parts of REQs, COUNTs) running at once per connection; later ones wait. */
  maxStreams: number
  /** Bytes of live events held per connection while stored parts stream. */
  liveBufferBytes: number
  /** Index entries one filter of a REQ may examine; past it the stored part ends early. */
  scanBudget: number
  /** Index entries one COUNT may examine; past it the answer says `approximate: true`. */
  countBudget: number
}

export const defaultQuerySettings: QuerySettings = {
  pageEvents: 500,
  pageBytes: 256 * 1024,
  pageWork: 10_000,
  highWaterBytes: 1024 * 1024,
  maxStreams: 4,
  liveBufferBytes: 1024 * 1024,
  scanBudget: 200_000,
  countBudget: 200_000,
}

/** What a connection gives its streams. */
export interface StreamIo {
  send(frame: string): void
  /** Bytes written to the socket but not yet sent. */
  buffered(): number
  /** A REQ's stream failed and CLOSED was sent: drop its subscription. */
  failed(subId: string): void
  /** A stored event this reader may not see (a delivery hook said so). */
  skip?(json: string): boolean
}

/** What the relay gives them. */
export interface StreamHost {
  settings: QuerySettings
  /** Most streams one connection may have started or waiting (a COUNT past it is refused). */
  maxJobs: number
  /** A cursor over a REQ's stored events, the relay's limits applied. */
  query(filters: NormFilter[]): Cursor
  /** A cursor that counts from the indexes. */
  count(filters: NormFilter[]): Cursor
  onError(err: unknown): void
}

export type LiveSink = (event: NostrEvent, json: string) => void

export interface Streams {
  /** Starts sending a REQ's stored events (a first page at once); returns the sink for live ones. */
  req(subId: string, filters: NormFilter[]): LiveSink
  count(subId: string, filters: NormFilter[]): void
  /** Stops the stream of this id, if any; nothing more is sent for it. */
  stop(subId: string): void
  /** The socket sent some of its backlog. */
  drain(): void
  /** The connection is gone. */
  stopAll(): void
}

interface ReqJob {
  type: 'req'
  subId: string
  filters: NormFilter[]
  /** Opened on the first step: a waiting stream holds only its filters. */
  cursor?: Cursor
  streaming: boolean
  /** Live events waiting for EOSE; undefined once they are sent as they come. */
  live?: string[]
  liveBytes: number
  /** Ids of the live events held, so the stored part skips them. */
  liveIds?: Set<string>
}

interface CountJob {
  type: 'count'
  subId: string
  filters: NormFilter[]
  cursor?: Cursor
  n: number
}

type Job = ReqJob | CountJob

/** One connection's streams. Functions over this state live at module level: no closures per REQ. */
interface Conn {
  io: StreamIo
  host: StreamHost
  s: QuerySettings
  // Keyed "r<subId>" for REQs, "c<subId>" for COUNTs: a COUNT never stops a REQ of the same id.
  jobs: Map<string, Job>
  active: Job[]
  waiting: Job[]
  /** Bytes of live events held over all its streams. */
  held: number
  paused: boolean
  scheduled: boolean
  closed: boolean
}

const keyOf = (job: Job): string => (job.type === 'req' ? 'r' : 'c') + job.subId
const full = (c: Conn): boolean => c.io.buffered() > c.s.highWaterBytes

function flushLive(c: Conn, job: ReqJob): void {
  for (const json of job.live ?? []) c.io.send(frames.eventFrame(job.subId, json))
  c.held -= job.liveBytes
  job.liveBytes = 0
  job.live = undefined
}

function deliverLive(c: Conn, job: ReqJob, e: NostrEvent, json: string): void {
  if (!job.streaming) return c.io.send(frames.eventFrame(job.subId, json))
  if (job.live && c.held + json.length <= c.s.liveBufferBytes) {
    ;(job.liveIds ??= new Set()).add(e.id) // bounded with the hold; past it a backdated event may come twice
    job.live.push(json)
    job.liveBytes += json.length
    c.held += json.length
    return
  }
  flushLive(c, job)
  c.io.send(frames.eventFrame(job.subId, json))
}

/**
 * One page of stored events; true once EOSE is sent. The socket is checked before the page only:
 * a page (pageBytes, at most a quarter of maxBufferedBytes) on top of the high-water mark stays
 * under the slow-consumer bound.
 */
function reqStep(c: Conn, job: ReqJob): boolean {
  const { s, io } = c
  if (full(c)) return false
  const cursor = (job.cursor ??= c.host.query(job.filters))
  const start = cursor.examined
  let events = 0
  let bytes = 0
  while (events < s.pageEvents && bytes < s.pageBytes) {
    const r = cursor.next(s.pageWork - (cursor.examined - start))
    if (r === 'busy') return false
    if (r === 'done') {
      job.streaming = false
      io.send(frames.eoseFrame(job.subId))
      flushLive(c, job)
      return true
    }
    if (job.liveIds?.has(r.id)) continue // held as live: goes out after EOSE
    if (io.skip?.(r.json)) continue
    io.send(frames.eventFrame(job.subId, r.json))
    events++
    bytes += r.json.length
  }
  return false
}

/** One slice of counting; true once the count is sent. */
function countStep(c: Conn, job: CountJob): boolean {
  const { s, io } = c
  const cursor = (job.cursor ??= c.host.count(job.filters))
  const start = cursor.examined
  for (;;) {
    if (cursor.examined >= s.countBudget) {
      io.send(frames.countFrame(job.subId, job.n, true))
      return true
    }
    const work = Math.min(s.pageWork - (cursor.examined - start), s.countBudget - cursor.examined)
    if (work <= 0) return false
    const r = cursor.next(work)
    if (r === 'done') {
      io.send(frames.countFrame(job.subId, job.n, cursor.truncated))
      return true
    }
    if (r !== 'busy') job.n++
  }
}

function remove(list: Job[], job: Job): void {
  const i = list.indexOf(job)
  if (i >= 0) list.splice(i, 1)
}

function admit(c: Conn): void {
  while (!c.paused && c.active.length < c.s.maxStreams && c.waiting.length > 0) c.active.push(c.waiting.shift()!)
}

/** Ends a stream, finished or stopped, and frees what it holds. */
function finish(c: Conn, job: Job): void {
  if (job.type === 'req') {
    job.streaming = false
    c.held -= job.liveBytes
    job.liveBytes = 0
    job.live = undefined
    job.liveIds = undefined
  }
  job.cursor = undefined
  c.jobs.delete(keyOf(job))
  remove(c.active, job)
  remove(c.waiting, job)
}

function run(c: Conn, job: Job): void {
  let done: boolean
  try {
    done = job.type === 'req' ? reqStep(c, job) : countStep(c, job)
  } catch (err) {
    c.host.onError(err)
    c.io.send(frames.closedFrame(job.subId, 'error: the query failed'))
    finish(c, job)
    if (job.type === 'req') c.io.failed(job.subId)
    return
  }
  if (done) finish(c, job)
  if (full(c)) pause(c)
}

function schedule(c: Conn): void {
  if (c.scheduled || c.paused || c.closed || c.jobs.size === 0) return
  c.scheduled = true
  setImmediate(pump, c)
}

/** One page of every running stream, in the order they started. */
function pump(c: Conn): void {
  c.scheduled = false
  if (c.closed) return
  admit(c)
  for (const job of [...c.jobs.values()]) {
    if (c.paused) break
    if (c.active.includes(job)) run(c, job)
    admit(c)
  }
  schedule(c)
}

/**
 * uWS reports drains as it writes the backlog; the timer is a fallback should the last report come
 * while the backlog is still above the resume mark.
 */
function pause(c: Conn): void {
  if (c.paused) return
  c.paused = true
  setTimeout(recheck, 250, c).unref()
}

function recheck(c: Conn): void {
  if (c.closed || !c.paused) return
  resume(c)
  if (c.paused) setTimeout(recheck, 250, c).unref()
}

function resume(c: Conn): void {
  if (!c.paused || c.io.buffered() > c.s.highWaterBytes / 2) return
  c.paused = false
  schedule(c)
}

function start(c: Conn, job: Job): void {
  c.jobs.set(keyOf(job), job)
  c.waiting.push(job)
  admit(c)
  if (c.active.includes(job)) run(c, job)
  schedule(c)
}

function stop(c: Conn, key: string): void {
  const job = c.jobs.get(key)
  if (!job) return
  finish(c, job)
  schedule(c)
}

export function createStreams(io: StreamIo, host: StreamHost): Streams {
  const c: Conn = { io, host, s: host.settings, jobs: new Map(), active: [], waiting: [], held: 0, paused: false, scheduled: false, closed: false }
  return {
    req(subId, filters) {
      stop(c, `r${subId}`)
      const job: ReqJob = { type: 'req', subId, filters, streaming: true, live: [], liveBytes: 0 }
      start(c, job)
      return (e, json) => deliverLive(c, job, e, json)
    },
    count(subId, filters) {
      stop(c, `c${subId}`)
      if (c.jobs.size >= host.maxJobs) return io.send(frames.closedFrame(subId, `rate-limited: too many queries in progress (max ${host.maxJobs})`))
      start(c, { type: 'count', subId, filters, n: 0 })
    },
    stop(subId) {
      stop(c, `r${subId}`)
      stop(c, `c${subId}`)
    },
    drain() {
      resume(c)
    },
    stopAll() {
      c.closed = true
      for (const job of [...c.jobs.values()]) finish(c, job)
    },
  }
}
