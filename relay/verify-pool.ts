// Signature checks off the main thread. The first event of an event-loop turn, with nothing in
// flight, is checked inline: no hop, the lowest latency for a lone bunker request. Any further
// events of that turn, and all events while checks are in flight, are batched to worker threads, so
// ingest under load uses every core.
import { Worker } from 'node:worker_threads'
import type { NostrEvent } from './event.ts'
import { checkEvent, type Check } from './verify.ts'

export interface Verifier {
  /** A Check when done inline, else a promise of one. */
  check(e: NostrEvent): Check | Promise<Check>
  close(): Promise<void>
}

/** Wire form to a worker: positional, to keep structured cloning cheap. */
export type WireEvent = [id: string, pubkey: string, created_at: number, kind: number, tags: string[][], content: string, sig: string]

interface Pending {
  wire: WireEvent[]
  resolve: Array<(c: Check) => void>
}

export function createVerifier(workerCount: number): Verifier {
  if (workerCount <= 0) return { check: checkEvent, close: async () => {} }
  const workers = Array.from({ length: workerCount }, () => {
    const w = new Worker(new URL('./verify-worker.mjs', import.meta.url))
    w.unref()
    return { w, queue: [] as Pending[], busy: 0 }
  })
  let inflight = 0
  let batch: Pending | undefined
  let next = 0
  let inlineThisTurn = false
  const newTurn = () => (inlineThisTurn = false)

  for (const slot of workers) {
    slot.w.on('message', (results: Check[]) => {
      const done = slot.queue.shift()!
      slot.busy -= done.wire.length
      inflight -= done.wire.length
      for (let i = 0; i < results.length; i++) done.resolve[i](results[i])
    })
  }

  function flush(): void {
    const b = batch!
    batch = undefined
    // the least busy worker takes the whole turn's batch
    let slot = workers[next++ % workers.length]
    for (const s of workers) if (s.busy < slot.busy) slot = s
    slot.queue.push(b)
    slot.busy += b.wire.length
    slot.w.postMessage(b.wire)
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
        batch = { wire: [], resolve: [] }
        setImmediate(flush)
      }
      const b = batch
      b.wire.push([e.id, e.pubkey, e.created_at, e.kind, e.tags, e.content, e.sig])
      return new Promise<Check>((resolve) => b.resolve.push(resolve))
    },
    async close() {
      await Promise.all(workers.map((s) => s.w.terminate()))
    },
  }
}
