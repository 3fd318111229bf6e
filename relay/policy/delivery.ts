// Delivery hook builders: what one reader may receive, live or stored.
import type { PreventDelivery } from '../hooks.ts'

/**
 * Events of these kinds reach only an authenticated reader that one of their `p` tags names (the
 * LNbits relay's rule for kind 4 when it requires AUTH for them): nobody else sees they exist.
 */
export const onlyToTaggedReaders =
  (kinds: ReadonlySet<number>): PreventDelivery =>
  (e, conn) => {
    if (!kinds.has(e.kind)) return false
    if (conn.authed.size === 0) return true
    for (const tag of e.tags) if (tag[0] === 'p' && conn.authed.has(tag[1])) return false
    return true
  }
