// Keys as text (hex or bech32) and as secp256k1 scalars.
import { nip19 } from 'nostr-tools'
import { secp256k1 } from '../../../native/secp256k1/index.ts'
import { isHex64 } from './values.ts'

/** Hex (64) or bech32 of the given type, as lowercase hex; undefined when it is neither. */
export function decodeKey(text: string, type: 'npub' | 'nsec'): string | undefined {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase()
  try {
    const d = nip19.decode(t)
    if (d.type !== type) return undefined
    const hex = typeof d.data === 'string' ? d.data : Buffer.from(d.data as Uint8Array).toString('hex')
    return isHex64(hex) ? hex : undefined
  } catch {
    return undefined
  }
}

/** The x-only pubkey, or undefined for a scalar that is not a valid secret key. */
export function pubkeyOf(sk: Uint8Array): string | undefined {
  try {
    return secp256k1.publicKey(sk)
  } catch {
    return undefined
  }
}
