// NIP-98 HTTP auth for the approval page's login: a kind 27235 event signed by an admin, naming the
// exact URL (`u`) and method, made within the last minute. The page's script gets it signed by a
// NIP-07 extension and posts it in a form field; an `Authorization: Nostr <base64>` header works too.
// A used event is remembered until it is too old anyway, so it cannot log in twice.
import { LRUCache } from 'lru-cache'
import { shapeError, type NostrEvent } from '../../relay/event.ts'
import { checkEvent } from '../../relay/verify.ts'

export const NIP98_KIND = 27235
/** NIP-98: a server should accept events made within a reasonable window; 60 s, as the issue asks. */
const WINDOW_SECONDS = 60
/** Base64 of a small event; anything longer is not one. */
const MAX_AUTH_CHARS = 8192

export interface Nip98Expect {
  url: string
  method: string
  admins: string[]
  /** Seconds. */
  now: number
}

const tag = (e: NostrEvent, name: string): string | undefined => e.tags.find((t) => t[0] === name)?.[1]

function decode(auth: string): NostrEvent | string {
  const b64 = auth.startsWith('Nostr ') ? auth.slice('Nostr '.length) : auth
  if (!b64 || b64.length > MAX_AUTH_CHARS) return 'no NIP-98 event'
  let e: unknown
  try {
    e = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'))
  } catch {
    return 'the NIP-98 event is not base64 JSON'
  }
  const shape = shapeError(e)
  return shape ?? (e as NostrEvent)
}

export function createNip98Check(): (auth: string, want: Nip98Expect) => { pubkey: string } | { error: string } {
  // admins' events only get here, so this holds at most what they sign in two minutes
  const used = new LRUCache<string, true>({ max: 1024, ttl: 2 * WINDOW_SECONDS * 1000 })
  return (auth, want) => {
    const e = decode(auth)
    if (typeof e === 'string') return { error: e }
    if (e.kind !== NIP98_KIND) return { error: `the event must be of kind ${NIP98_KIND}` }
    if (Math.abs(e.created_at - want.now) > WINDOW_SECONDS) return { error: 'the event is too old or too far in the future (check the clock)' }
    if (tag(e, 'u') !== want.url) return { error: `the event must name this URL: ${want.url}` }
    if (tag(e, 'method')?.toUpperCase() !== want.method) return { error: `the event must name the method ${want.method}` }
    if (!want.admins.includes(e.pubkey)) return { error: 'this key is not an admin of the bunker' }
    if (checkEvent(e) !== 'ok') return { error: 'the event’s id or signature does not verify' }
    if (used.has(e.id)) return { error: 'this login event was used already' }
    used.set(e.id, true)
    return { pubkey: e.pubkey }
  }
}
