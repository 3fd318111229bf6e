// Relay limits, all configurable, and the write-policy hooks that enforce the per-event ones.
import { expiration, isProtected, type NostrEvent } from './event.ts'
import type { Origin, RejectEvent } from './hooks.ts'

export interface Limits {
  /** Largest WebSocket message accepted, in bytes. Bunker traffic carries large encrypted events. */
  maxMessageBytes: number
  maxSubscriptions: number
  maxFilters: number
  /** Cap on a filter's limit; also the COUNT cap. */
  maxLimit: number
  /** Limit applied to filters that give none. */
  defaultLimit: number
  maxEventTags: number
  /** created_at may be at most this far in the future (seconds). */
  maxFutureSeconds: number
  /** created_at may be at most this far in the past (seconds); 0 = no bound. */
  maxPastSeconds: number
  /** A connection whose unsent bytes exceed this is closed: a slow reader never slows others. */
  maxBufferedBytes: number
  /** Events per minute one connection may send; 0 = no limit. */
  maxEventsPerMinute: number
}

export const defaultLimits: Limits = {
  maxMessageBytes: 512 * 1024,
  maxSubscriptions: 50,
  maxFilters: 20,
  maxLimit: 5000,
  defaultLimit: 500,
  maxEventTags: 5000,
  maxFutureSeconds: 15 * 60,
  maxPastSeconds: 0,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxEventsPerMinute: 0,
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export function eventLimitHooks(limits: Limits): RejectEvent[] {
  return [
    (e) => (e.tags.length > limits.maxEventTags ? `invalid: too many tags (max ${limits.maxEventTags})` : undefined),
    (e) => {
      const now = nowSeconds()
      if (e.created_at > now + limits.maxFutureSeconds) return 'invalid: created_at is too far in the future'
      if (limits.maxPastSeconds > 0 && e.created_at < now - limits.maxPastSeconds) return 'invalid: created_at is too far in the past'
      return undefined
    },
    (e) => {
      const exp = expiration(e)
      return exp !== 0 && exp <= nowSeconds() ? 'invalid: event has expired' : undefined
    },
    protectedEvents,
  ]
}

/** NIP-70: a protected event is accepted only from a connection authenticated as its author. */
function protectedEvents(e: NostrEvent, origin: Origin): string | undefined {
  if (!isProtected(e) || origin.type !== 'client') return undefined
  return origin.conn.authed.has(e.pubkey) ? undefined : 'auth-required: this event may only be published by its author'
}

/** A fixed one-minute window per connection; cheap and good enough against a flooding client. */
export function createRateWindow(perMinute: number): () => boolean {
  let windowStart = 0
  let used = 0
  return () => {
    if (perMinute <= 0) return true
    const now = Date.now()
    if (now - windowStart >= 60_000) {
      windowStart = now
      used = 0
    }
    return ++used <= perMinute
  }
}
