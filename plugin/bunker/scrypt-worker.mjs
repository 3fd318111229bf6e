// Runs NIP-49's scrypt for scrypt-pool.ts, one job at a time. Synchronous on purpose: this thread is
// the job's own, and the asynchronous scrypt would hand it back to libuv's pool, which LMDB commits
// need. Plain JavaScript, so the worker starts without tsx.
import { scryptSync } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

parentPort.on('message', ({ password, salt, logn }) => {
  try {
    const N = 2 ** logn
    const key = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: 1024 * N + 1024 * 1024 })
    parentPort.postMessage({ key: new Uint8Array(key) })
  } catch (err) {
    parentPort.postMessage({ error: String(err?.message ?? err) })
  }
})
