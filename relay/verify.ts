// Id and signature verification on libsecp256k1 (nostr-wasm): ~6x faster than pure JS here, and
// verification is what bounds ingest. The wasm module must be initialised once, before any check.
import { initNostrWasm } from 'nostr-wasm'
import { setNostrWasm, verifyEvent as wasmVerify } from 'nostr-tools/wasm'
import type { NostrEvent } from './event.ts'

let ready: Promise<void> | undefined

export function initVerifier(): Promise<void> {
  ready ??= initNostrWasm().then((nw) => setNostrWasm(nw))
  return ready
}

/** True when the id is the hash of the event and sig is its author's Schnorr signature over it. */
export function verifyEvent(event: NostrEvent): boolean {
  return wasmVerify(event)
}

