// Write-policy hook builders: each takes its setting and returns one RejectEvent. relay.ts orders
// them; a per-relay policy is another list built from the same builders.
import { expiration, isProtected } from '../event.ts'
import type { RejectEvent } from '../hooks.ts'
import { nowSeconds } from '../time.ts'
import { identityRefusal } from './auth.ts'

export const maxEventTags =
  (max: number): RejectEvent =>
  (e) =>
    e.tags.length > max ? `invalid: too many tags (max ${max})` : undefined

/** created_at at most `futureSeconds` ahead of now and, unless `pastSeconds` is 0, at most that far behind. */
export const createdAtWithin =
  (futureSeconds: number, pastSeconds: number): RejectEvent =>
  (e) => {
    const now = nowSeconds()
    if (e.created_at > now + futureSeconds) return 'invalid: created_at is too far in the future'
    if (pastSeconds > 0 && e.created_at < now - pastSeconds) return 'invalid: created_at is too far in the past'
    return undefined
  }

/** NIP-40: an event that has already expired is refused. */
export const notExpired: RejectEvent = (e) => {
  const exp = expiration(e)
  return exp !== 0 && exp <= nowSeconds() ? 'invalid: event has expired' : undefined
}

/** NIP-70: a protected event is accepted only from a connection authenticated as its author. */
export const protectedEvents: RejectEvent = (e, origin) => {
  if (!isProtected(e) || origin.type !== 'client' || origin.conn.authed.has(e.pubkey)) return undefined
  return identityRefusal(origin.conn, 'this event may only be published by its author')
}

/** created_at bounds where 0 means no bound on that side (the LNbits relay settings' reading). */
export const createdAtBounds = (pastSeconds: number, futureSeconds: number): RejectEvent =>
  createdAtWithin(futureSeconds > 0 ? futureSeconds : Number.POSITIVE_INFINITY, pastSeconds)

/** Kinds accepted: only those of `allowed` when it is given, never those of `denied`. */
export const kindsAccepted =
  (allowed: ReadonlySet<number> | undefined, denied: ReadonlySet<number>): RejectEvent =>
  (e) =>
    (allowed && !allowed.has(e.kind)) || denied.has(e.kind) ? `blocked: events of kind ${e.kind} are not accepted here` : undefined

/**
 * Events of the kinds `needsAuth` names may only come from an authenticated client connection (any
 * pubkey: the LNbits relay's rule). Events from plugins and bridges pass.
 */
export const authForKinds =
  (needsAuth: (kind: number) => boolean): RejectEvent =>
  (e, origin) =>
    origin.type === 'client' && origin.conn.authed.size === 0 && needsAuth(e.kind)
      ? `auth-required: this relay requires authentication for events of kind ${e.kind}`
      : undefined
