// Event id and signature checks. The id is Node's native SHA-256 over the NIP-01 serialisation; the
// Schnorr check is libsecp256k1, native when built (~75 µs here) or wasm (~330 µs). Verification is
// what bounds ingest.
import { createHash } from 'node:crypto'
import { secp256k1 } from '../native/secp256k1/index.ts'
import type { NostrEvent } from './event.ts'

/** SHA-256 of [0, pubkey, created_at, kind, tags, content], which must equal the id. */
export function eventHash(e: Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>): Buffer {
  return createHash('sha256')
    .update(JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]))
    .digest()
}

export type Check = 'ok' | 'bad-id' | 'bad-sig'

/** Checks an event whose shape is already valid (hex fields of the right length). */
export function checkEvent(e: NostrEvent): Check {
  const hash = eventHash(e)
  if (hash.toString('hex') !== e.id) return 'bad-id'
  return secp256k1.verify(hash, e.pubkey, e.sig) ? 'ok' : 'bad-sig'
}
