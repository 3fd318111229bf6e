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

interface Job {
  /** Runs one bounded step; true when the stream is finished. */
  step(): boolean
  /** Frees what the stream holds. */
  release(): void
}

export function createStreams(io: StreamIo, host: StreamHost): Streams {
  const s = host.settings
  // Keyed "r<subId>" for REQs, "c<subId>" for COUNTs: a COUNT never stops a REQ of the same id.
  const jobs = new Map<string, Job>()
  const active: Job[] = []
  const waiting: Job[] = []
  const held = { bytes: 0 }
  let paused = false
  let scheduled = false
  let closed = false

  const full = (): boolean => io.buffered() > s.highWaterBytes

  // Cursors are opened on a stream's first step: a waiting stream holds only its filters.
  function reqJob(subId: string, filters: NormFilter[]): { job: Job; sink: LiveSink } {
    let cursor: Cursor | undefined
    let streaming = true
    // Live events waiting for EOSE; undefined once they are sent as they come.
    let live: string[] | undefined = []
    let liveBytes = 0
    const liveIds = new Set<string>()

    function flushLive(): void {
      for (const json of live ?? []) io.send(frames.eventFrame(subId, json))
      held.bytes -= liveBytes
      liveBytes = 0
      live = undefined
    }

    const sink: LiveSink = (e, json) => {
      if (!streaming) return io.send(frames.eventFrame(subId, json))
      if (live && held.bytes + json.length <= s.liveBufferBytes) {
        liveIds.add(e.id) // bounded with the hold; once it overflows a backdated event may come twice
        live.push(json)
        liveBytes += json.length
        held.bytes += json.length
        return
      }
      flushLive()
      io.send(frames.eventFrame(subId, json))
    }

    const job: Job = {
      step() {
        cursor ??= host.query(filters)
        let events = 0
        let bytes = 0
        const start = cursor.examined
        while (events < s.pageEvents && bytes < s.pageBytes && !full()) {
          const r = cursor.next(s.pageWork - (cursor.examined - start))
          if (r === 'busy') return false
          if (r === 'done') {
            streaming = false
            io.send(frames.eoseFrame(subId))
            flushLive()
            return true
          }
          if (liveIds.has(r.id)) continue // held as live: goes out after EOSE
          io.send(frames.eventFrame(subId, r.json))
          events++
          bytes += r.json.length
        }
        return false
      },
      release() {
        streaming = false
        held.bytes -= liveBytes
        live = undefined
        liveIds.clear()
        cursor = undefined
      },
    }
    return { job, sink }
  }

  function countJob(subId: string, filters: NormFilter[]): Job {
    let cursor: Cursor | undefined
    let n = 0
    return {
      step() {
        cursor ??= host.count(filters)
        const start = cursor.examined
        for (;;) {
          if (cursor.examined >= s.countBudget) {
            io.send(frames.countFrame(subId, n, true))
            return true
          }
          const work = Math.min(s.pageWork - (cursor.examined - start), s.countBudget - cursor.examined)
          if (work <= 0) return false
          const r = cursor.next(work)
          if (r === 'done') {
            io.send(frames.countFrame(subId, n, cursor.truncated))
            return true
          }
          if (r !== 'busy') n++
        }
      },
      release() {
        cursor = undefined
      },
    }
  }

  function remove(list: Job[], job: Job): void {
    const i = list.indexOf(job)
    if (i >= 0) list.splice(i, 1)
  }

  function admit(): void {
    while (!paused && active.length < s.maxStreams && waiting.length > 0) active.push(waiting.shift()!)
  }

  function finish(key: string, job: Job): void {
    job.release()
    jobs.delete(key)
    remove(active, job)
    remove(waiting, job)
  }

  function run(key: string, job: Job): void {
    let done: boolean
    try {
      done = job.step()
    } catch (err) {
      host.onError(err)
      io.send(frames.closedFrame(key.slice(1), 'error: the query failed'))
      done = true
    }
    if (done) finish(key, job)
    if (full()) pause()
  }

  /**
   * uWS reports drains as it writes the backlog; the timer is a fallback should the last report
   * come while the backlog is still above the resume mark.
   */
  function pause(): void {
    if (paused) return
    paused = true
    const check = (): void => {
      if (closed || !paused) return
      resume()
      if (paused) setTimeout(check, 250).unref()
    }
    setTimeout(check, 250).unref()
  }

  function resume(): void {
    if (!paused || io.buffered() > s.highWaterBytes / 2) return
    paused = false
    schedule()
  }

  function schedule(): void {
    if (scheduled || paused || closed || jobs.size === 0) return
    scheduled = true
    setImmediate(pump)
  }

  /** One page of every running stream, in the order they started. */
  function pump(): void {
    scheduled = false
    if (closed) return
    admit()
    for (const [key, job] of [...jobs]) {
      if (paused) break
      if (active.includes(job)) run(key, job)
      admit()
    }
    schedule()
  }

  function start(key: string, job: Job): void {
    jobs.set(key, job)
    waiting.push(job)
    admit()
    if (active.includes(job)) run(key, job)
    schedule()
  }

  function stop(key: string): void {
    const job = jobs.get(key)
    if (!job) return
    finish(key, job)
    schedule()
  }

  return {
    req(subId, filters) {
      stop(`r${subId}`)
      const { job, sink } = reqJob(subId, filters)
      start(`r${subId}`, job)
      return sink
    },
    count(subId, filters) {
      stop(`c${subId}`)
      if (jobs.size >= host.maxJobs) return io.send(frames.closedFrame(subId, `rate-limited: too many queries in progress (max ${host.maxJobs})`))
      start(`c${subId}`, countJob(subId, filters))
    },
    stop(subId) {
      stop(`r${subId}`)
      stop(`c${subId}`)
    },
    drain: resume,
    stopAll() {
      closed = true
      for (const job of jobs.values()) job.release()
      jobs.clear()
      active.length = 0
      waiting.length = 0
    },
  }
}
