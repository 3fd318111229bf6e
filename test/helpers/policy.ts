// Inputs for policy hooks in unit tests: a connection, a client origin, normalised filters.
import type { ConnectionInfo, Origin } from '../../relay/hooks.ts'
import { type Filter, normaliseFilters } from '../../relay/filter.ts'

export const conn = (over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  id: 1,
  ip: '127.0.0.1',
  authed: new Set(),
  subscriptions: 0,
  filters: 0,
  filterValues: 0,
  ...over,
})

export const client = (c: ConnectionInfo = conn()): Origin => ({ type: 'client', conn: c })

export const filters = (...raws: Filter[]) => {
  const f = normaliseFilters(raws)
  if (typeof f === 'string') throw new Error(f)
  return f
}
