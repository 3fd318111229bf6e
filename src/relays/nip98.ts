// NIP-98 HTTP auth for the management API: `Authorization: Nostr <base64 of a kind 27235 event>`
// whose `u` tag is this request's URL, `method` its method, `payload` the SHA-256 of its body, made
// within the last minute; the caller remembers accepted ones (a captured header cannot be replayed while
// it is fresh).
import { createHash } from 'node:crypto'
import { shapeError, type NostrEvent } from '../../relay/event.ts'
import { checkEvent } from '../../relay/verify.ts'

export const HTTP_AUTH_KIND = 27235
/** A header larger than this is refused unread (an event with a few tags fits in well under 2 KiB). */
const MAX_HEADER = 16 * 1024

export interface HttpAuthRequest {
  authorization: string
  method: string
  /** Host header, path and query string as received. */
  host: string
  path: string
  query: string
  body: Buffer
  /** The relay's public URLs: a proxy in front may have rewritten the Host header. */
  urls: string[]
}

/** `id` and `until`: for the caller's replay memory, once it knows the signer may act (strangers must not fill it). */
export type HttpAuth = { ok: true; pubkey: string; id: string; until: number } | { ok: false; reason: string }

/** Event ids of accepted headers, each kept as long as it could still be accepted (bounded: full refuses). */
export interface SeenIds {
  add(id: string, until: number, now: number): boolean
}

export function createSeenIds(max: number): SeenIds {
  const seen = new Map<string, number>()
  return {
    add(id, until, now) {
      for (const [k, t] of seen) {
        if (t >= now) break // insertion order is close to expiry order; a late straggler waits its turn
        seen.delete(k)
      }
      if (seen.has(id) || seen.size >= max) return false
      seen.set(id, until)
      return true
    },
  }
}

/** Scheme-free address of a URL for comparison: lower-case host, path without trailing slash, query. */
function address(url: string): string | undefined {
  try {
    const u = new URL(url)
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return undefined
    return `${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}${u.search}`
  } catch {
    return undefined
  }
}

const tag = (e: NostrEvent, name: string): string | undefined => e.tags.find((t) => t[0] === name)?.[1]

export function verifyHttpAuth(req: HttpAuthRequest, now: number, windowSeconds: number): HttpAuth {
  const fail = (reason: string): HttpAuth => ({ ok: false, reason })
  if (req.authorization.length > MAX_HEADER) return fail('authorization header too large')
  const m = /^Nostr\s+([A-Za-z0-9+/=_-]+)\s*$/.exec(req.authorization)
  if (!m) return fail('missing "Authorization: Nostr <base64 event>" header')
  let event: unknown
  try {
    event = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8'))
  } catch {
    return fail('the authorization event is not base64 JSON')
  }
  const shape = shapeError(event)
  if (shape) return fail(shape.replace(/^invalid: /, ''))
  const e = event as NostrEvent
  if (e.kind !== HTTP_AUTH_KIND) return fail(`the authorization event must be kind ${HTTP_AUTH_KIND}`)
  if (checkEvent(e) !== 'ok') return fail('the authorization event does not verify')
  if (Math.abs(e.created_at - now) > windowSeconds) return fail('the authorization event is too old or too far in the future')
  const u = address(tag(e, 'u') ?? '')
  const here = address(`http://${req.host}${req.path}${req.query ? `?${req.query}` : ''}`)
  if (!u || (u !== here && !req.urls.some((url) => address(url) === u))) return fail('the authorization event is for another URL')
  if ((tag(e, 'method') ?? '').toUpperCase() !== req.method.toUpperCase()) return fail('the authorization event is for another method')
  const hash = createHash('sha256').update(req.body).digest('hex')
  if (tag(e, 'payload') !== hash) return fail('the authorization event is for another payload')
  return { ok: true, pubkey: e.pubkey, id: e.id, until: e.created_at + windowSeconds }
}
