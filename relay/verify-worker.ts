// Checks a batch of events sent by verify-pool.ts and answers with one Check per event.
import { parentPort } from 'node:worker_threads'
import type { WireEvent } from './verify-pool.ts'
import { checkEvent } from './verify.ts'

parentPort!.on('message', (batch: WireEvent[]) => {
  parentPort!.postMessage(batch.map(([id, pubkey, created_at, kind, tags, content, sig]) => checkEvent({ id, pubkey, created_at, kind, tags, content, sig })))
})
parentPort!.postMessage('ready')
