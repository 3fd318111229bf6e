// Signing for the bunker: BIP-340 Schnorr by libsecp256k1 (tiny-secp256k1, wasm) over Node's native
// SHA-256, ~300 µs an event here against ~640 µs for nostr-wasm. The pubkey is passed in, not
// recomputed: each key's pubkey is known from the moment it is registered.
import { randomBytes } from 'node:crypto'
import { signSchnorr, xOnlyPointFromScalar } from 'tiny-secp256k1'
import { eventHash, type NostrEvent } from '../../relay/relay.ts'

export interface Template {
  kind: number
  created_at: number
  tags: string[][]
  content: string
}

export const publicKeyOf = (sk: Uint8Array): string => Buffer.from(xOnlyPointFromScalar(sk)).toString('hex')

/** Signs exactly the template's four fields as `pubkey`, the public key of `sk`. */
export function signEvent(t: Template, sk: Uint8Array, pubkey: string): NostrEvent {
  const hash = eventHash({ pubkey, created_at: t.created_at, kind: t.kind, tags: t.tags, content: t.content })
  const sig = signSchnorr(hash, sk, randomBytes(32))
  return { id: hash.toString('hex'), pubkey, created_at: t.created_at, kind: t.kind, tags: t.tags, content: t.content, sig: Buffer.from(sig).toString('hex') }
}
