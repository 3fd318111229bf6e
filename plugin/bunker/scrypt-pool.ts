// scrypt (NIP-49 key encryption, the vault key) on worker threads of its own. Node's asynchronous
// scrypt runs on libuv's 4-thread pool, which LMDB commits share: a burst of key creations or
// unlock attempts held every client's OK for seconds. Here a fixed number of workers each run one
// job at a time, at most `maxQueue` jobs wait, and a job beyond that is refused at once.
import { Worker } from 'node:worker_threads'

/** scrypt(N = 2^logn, r = 8, p = 1, 32 bytes) of the password's NFKC form (NIP-49's parameters). */
export type Scrypt = (password: string, salt: Uint8Array, logn: number) => Promise<Uint8Array>

export interface ScryptPool {
  derive: Scrypt
  close(): Promise<void>
}

/** The rejection for a job beyond the queue limit; its message is the reply an admin gets. */
export class ScryptBusy extends Error {}

/** NIP-49 allows any logN; past this a single job would want 4 GiB or more. */
export const MAX_LOGN = 22

interface Job {
  password: string
  salt: Uint8Array
  logn: number
  resolve(key: Uint8Array): void
  reject(err: Error): void
}

interface Slot {
  w: Worker
  job?: Job
}

export interface ScryptPoolOptions {
  workers: number
  /** Jobs that may wait for a free worker. */
  maxQueue: number
}

export function createScryptPool(opts: ScryptPoolOptions): ScryptPool {
  const waiting: Job[] = []
  const slots: Slot[] = []
  let closed = false

  function spawn(): Slot {
    const slot: Slot = { w: new Worker(new URL('./scrypt-worker.mjs', import.meta.url)) }
    slot.w.unref() // held only while it has a job: an idle pool never keeps the process alive
    slot.w.on('message', (m: { key?: Uint8Array; error?: string }) => {
      const job = slot.job!
      slot.job = undefined
      slot.w.unref()
      if (m.key) job.resolve(m.key)
      else job.reject(new Error(`scrypt failed: ${m.error}`))
      pump()
    })
    slot.w.on('error', () => {}) // followed by 'exit'
    // A worker that dies (out of memory, say) fails its job, and a new one takes its place.
    slot.w.once('exit', () => {
      slot.job?.reject(new Error('scrypt worker exited'))
      slot.job = undefined
      const i = slots.indexOf(slot)
      if (i >= 0) slots.splice(i, 1)
      if (!closed) slots.push(spawn())
      pump()
    })
    return slot
  }

  function pump(): void {
    for (const slot of slots) {
      if (waiting.length === 0) return
      if (slot.job) continue
      const job = waiting.shift()!
      slot.job = job
      slot.w.ref()
      slot.w.postMessage({ password: job.password, salt: job.salt, logn: job.logn })
    }
  }

  for (let i = 0; i < Math.max(1, opts.workers); i++) slots.push(spawn())

  return {
    derive(password, salt, logn) {
      if (closed) return Promise.reject(new Error('scrypt pool closed'))
      if (!Number.isInteger(logn) || logn < 1 || logn > MAX_LOGN) return Promise.reject(new Error(`scrypt logN ${logn} is out of range`))
      const idle = slots.some((s) => !s.job)
      if (!idle && waiting.length >= opts.maxQueue)
        return Promise.reject(new ScryptBusy('rate-limited: too many key derivations in progress, try again shortly'))
      return new Promise((resolve, reject) => {
        waiting.push({ password: password.normalize('NFKC'), salt, logn, resolve, reject })
        pump()
      })
    },
    async close() {
      closed = true
      for (const job of waiting.splice(0)) job.reject(new Error('scrypt pool closed'))
      await Promise.all(slots.map((s) => s.w.terminate()))
    },
  }
}
