// NIP-42: a per-connection challenge, answered by a signed kind 22242 event naming this relay.
import { randomBytes } from 'node:crypto'
import { tagValue, type NostrEvent } from './event.ts'
import { AUTH_KIND } from './kinds.ts'
/** How far an AUTH event's created_at may be from now. */
const AUTH_WINDOW_SECONDS = 600

export const newChallenge = (): string => randomBytes(16).toString('hex')

/** Host, port and path of a relay URL, ignoring scheme (TLS may end at a proxy) and a trailing slash. */
function relayAddress(url: string): string | undefined {
  try {
    const u = new URL(url)
    return `${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Checks an AUTH event whose signature is already verified. `relayUrls` are the addresses this relay
 * answers on; when empty, any relay tag is accepted (the operator did not say what the public URL is).
 */
export function authError(e: NostrEvent, challenge: string, relayUrls: string[], now: number): string | undefined {
  if (e.kind !== AUTH_KIND) return `invalid: AUTH event must be kind ${AUTH_KIND}`
  if (Math.abs(e.created_at - now) > AUTH_WINDOW_SECONDS) return 'invalid: AUTH event created_at is too far from now'
  if (tagValue(e, 'challenge') !== challenge) return 'invalid: AUTH challenge does not match'
  const relay = tagValue(e, 'relay')
  if (relay === undefined) return 'invalid: AUTH event has no relay tag'
  if (relayUrls.length > 0) {
    const addr = relayAddress(relay)
    if (!relayUrls.some((u) => relayAddress(u) === addr)) return 'invalid: AUTH relay tag names another relay'
  }
  return undefined
}
