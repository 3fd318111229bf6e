// Read-policy hook builders: each takes its setting and returns one RejectFilter. What a REQ would
// hold (filters, values, subscriptions) is bounded here, per REQ, per connection and per relay, so
// the dispatch table never holds more than these limits allow.
import { countValues, valueLists } from '../filter.ts'
import type { RejectFilter } from '../hooks.ts'

export const maxFilters =
  (max: number): RejectFilter =>
  (filters) =>
    filters.length > max ? `invalid: too many filters (max ${max})` : undefined

/** Values in any one list of a filter: ids, authors, kinds, or one tag's values. */
export const maxFilterValues =
  (max: number): RejectFilter =>
  (filters) => {
    for (const f of filters) for (const [field, size] of valueLists(f)) if (size > max) return `invalid: too many values in ${field} (max ${max})`
    return undefined
  }

export const maxSubscriptions =
  (max: number): RejectFilter =>
  (_filters, conn, verb) =>
    verb === 'REQ' && conn.subscriptions >= max ? `rate-limited: too many open subscriptions (max ${max})` : undefined

/** Filter values held by one connection's open subscriptions, this REQ's included. */
export const maxConnectionValues =
  (max: number): RejectFilter =>
  (filters, conn, verb) =>
    verb === 'REQ' && conn.filterValues + countValues(filters) > max
      ? `rate-limited: too many filter values in this connection's subscriptions (max ${max})`
      : undefined

/** Filter values held by all client subscriptions of a relay together; `held` reads the running total. */
export const maxHeldValues =
  (max: number, held: () => number): RejectFilter =>
  (filters, _conn, verb) =>
    verb === 'REQ' && held() + countValues(filters) > max ? 'rate-limited: the relay holds too many subscriptions right now, try later' : undefined

/** Filters one connection's open subscriptions may hold together, this REQ's included; 0: no bound. */
export const maxConnectionFilters =
  (max: number): RejectFilter =>
  (filters, conn, verb) =>
    verb === 'REQ' && max > 0 && conn.filters + filters.length > max
      ? `rate-limited: too many filters in this connection's subscriptions (max ${max})`
      : undefined

/** REQ and COUNT only after NIP-42 AUTH. */
export const authToRead: RejectFilter = (_filters, conn) => (conn.authed.size === 0 ? 'auth-required: this relay requires authentication to read' : undefined)
