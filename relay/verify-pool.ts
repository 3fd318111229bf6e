// Signature checks off the main thread. The first event of an event-loop turn, with nothing in
// flight, is checked inline: no hop, the lowest latency for a lone bunker request. Any further
// events of that turn, and all events while checks are in flight, are batched; at the end of the
// turn a batch of MIN_OFFLOAD or more goes to a worker thread, so ingest under load uses every core,
// and a smaller one is checked inline: posting a batch and waking a worker cost ~100 µs of the main
// thread here (profiled under the sign_event load), more than a native check (~80 µs).
import { Worker } from 'node:worker_threads'
import type { NostrEvent } from './event.ts'
import { checkEvent, type Check } from './verify.ts'

export interface Verifier {
  /** A Check when done inline, else a promise of one. */
  check(e: NostrEvent): Check | Promise<Check>
  /** Resolves once every worker has loaded: until then a batch would wait out a worker's start-up. */
  readonly ready: Promise<void>
  close(): Promise<void>
}

/** Wire form to a worker: positional, to keep structured cloning cheap. */
export type WireEvent = [id: string, pubkey: string, created_at: number, kind: number, tags: string[][], content: string, sig: string]

interface Pending {
  events: NostrEvent[]
  resolve: Array<(c: Check) => void>
}

const MIN_OFFLOAD = 8
const wire = (e: NostrEvent): WireEvent => [e.id, e.pubkey, e.created_at, e.kind, e.tags, e.content, e.sig]

interface Slot {
  w: Worker
  queue: Pending[]
  busy: number
  alive: boolean
}

/** Answers a batch here, on the main thread. */
function checkInline(b: Pending): void {
  for (let i = 0; i < b.events.length; i++) b.resolve[i](checkEvent(b.events[i]))
}

export function createVerifier(workerCount: number): Verifier {
  if (workerCount <= 0) return { check: checkEvent, ready: Promise.resolve(), close: async () => {} }
  let inflight = 0
  let batch: Pending | undefined
  let next = 0
  let inlineThisTurn = false
  const newTurn = () => (inlineThisTurn = false)

  const workers: Slot[] = Array.from({ length: workerCount }, () => {
    const slot: Slot = { w: new Worker(new URL('./verify-worker.mjs', import.meta.url)), queue: [], busy: 0, alive: true }
    slot.w.unref()
    // A worker that dies (out of memory, say) takes no more batches; what it held is checked here.
    slot.w.once('exit', () => {
      slot.alive = false
      for (const b of slot.queue.splice(0)) {
        inflight -= b.events.length
        checkInline(b)
      }
    })
    slot.w.on('error', () => {}) // followed by 'exit'
    return slot
  })
  // The first message of a worker is its 'ready'; every later one answers its oldest batch.
  const ready = Promise.all(
    workers.map(
      (slot) =>
        new Promise<void>((resolve) => {
          slot.w.once('exit', () => resolve())
          slot.w.once('message', () => {
            resolve()
            slot.w.on('message', (results: Check[]) => {
              const done = slot.queue.shift()!
              slot.busy -= done.events.length
              inflight -= done.events.length
              for (let i = 0; i < results.length; i++) done.resolve[i](results[i])
            })
          })
        }),
    ),
  ).then(() => {})

  function flush(): void {
    const b = batch!
    batch = undefined
    const alive = workers.filter((s) => s.alive)
    if (b.events.length < MIN_OFFLOAD || alive.length === 0) {
      inflight -= b.events.length
      return checkInline(b)
    }
    // the least busy worker takes the whole turn's batch
    let slot = alive[next++ % alive.length]
    for (const s of alive) if (s.busy < slot.busy) slot = s
    slot.queue.push(b)
    slot.busy += b.events.length
    slot.w.postMessage(b.events.map(wire))
  }

  return {
    check(e) {
      if (inflight === 0 && !inlineThisTurn) {
        inlineThisTurn = true
        setImmediate(newTurn)
        return checkEvent(e)
      }
      inflight++
      if (!batch) {
        batch = { events: [], resolve: [] }
        setImmediate(flush)
      }
      const b = batch
      b.events.push(e)
      return new Promise<Check>((resolve) => b.resolve.push(resolve))
    },
    ready,
    async close() {
      await Promise.all(workers.map((s) => s.w.terminate()))
    },
  }
}
