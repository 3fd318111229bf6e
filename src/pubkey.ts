// A pubkey as people type it: 64 hex characters (either case) or an npub.
import { nip19 } from 'nostr-tools'
import { isHex } from '../relay/event.ts'

/** The lowercase hex form of a pubkey given as hex or npub; undefined for anything else. */
export function hexPubkey(s: string): string | undefined {
  const t = s.trim()
  if (isHex(t.toLowerCase(), 64)) return t.toLowerCase()
  if (!t.startsWith('npub1')) return undefined
  try {
    const d = nip19.decode(t as `npub1${string}`)
    return d.type === 'npub' ? d.data : undefined
  } catch {
    return undefined
  }
}
