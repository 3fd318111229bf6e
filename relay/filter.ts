// NIP-01 filters: validation into a normalised form built for matching (sets, not arrays), and the
// exact match used by both live dispatch and stored queries.
import { isHex, type NostrEvent } from './event.ts'

/** The wire form, as clients send it. */
export interface Filter {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  search?: string
  [tag: `#${string}`]: string[] | undefined
}

/** A validated filter. Absent fields match everything; tag letters map to their allowed values. */
export interface NormFilter {
  ids?: Set<string>
  authors?: Set<string>
  kinds?: Set<number>
  tags?: Map<string, Set<string>>
  since?: number
  until?: number
  limit?: number
  /** NIP-50 text search is not supported: a filter that asks for it matches nothing. */
  search?: string
}

const KNOWN = new Set(['ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search'])

function hexSet(v: unknown, field: string): Set<string> | string {
  if (!Array.isArray(v)) return `invalid: ${field} must be an array`
  for (const x of v) if (!isHex(x, 64)) return `invalid: ${field} must hold 64-character lowercase hex strings`
  return new Set(v as string[])
}

function timestamp(v: unknown, field: string): number | string {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : `invalid: ${field} must be a non-negative integer`
}

/** Validates one wire filter. Returns the normalised filter or an "invalid:" reason. */
export function normaliseFilter(raw: unknown): NormFilter | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'invalid: filter must be an object'
  const out: NormFilter = {}
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'ids' || key === 'authors') {
      const s = hexSet(value, key)
      if (typeof s === 'string') return s
      out[key] = s
    } else if (key === 'kinds') {
      if (!Array.isArray(value) || !value.every((k) => Number.isSafeInteger(k) && k >= 0 && k <= 65535))
        return 'invalid: kinds must be an array of integers between 0 and 65535'
      out.kinds = new Set(value as number[])
    } else if (key === 'since' || key === 'until' || key === 'limit') {
      const t = timestamp(value, key)
      if (typeof t === 'string') return t
      out[key] = t
    } else if (key === 'search') {
      if (typeof value !== 'string') return 'invalid: search must be a string'
      out.search = value
    } else if (key.length === 2 && key[0] === '#') {
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) return `invalid: ${key} must be an array of strings`
      ;(out.tags ??= new Map()).set(key[1], new Set(value as string[]))
    } else if (!KNOWN.has(key)) {
      return `invalid: unknown filter field ${JSON.stringify(key.slice(0, 40))}`
    }
  }
  return out
}

/** Validates a REQ/COUNT filter list. */
export function normaliseFilters(raws: unknown[]): NormFilter[] | string {
  const out: NormFilter[] = []
  for (const raw of raws) {
    const f = normaliseFilter(raw)
    if (typeof f === 'string') return f
    out.push(f)
  }
  return out
}

/** Characters of a tag value that count as one value against the limits: an id or a pubkey is one. */
const VALUE_UNIT = 64

/** Tag values weighed in units of VALUE_UNIT characters begun, so a few huge values cost what many small ones do. */
function tagWeight(values: Set<string>): number {
  let n = 0
  for (const v of values) n += v.length <= VALUE_UNIT ? 1 : Math.ceil(v.length / VALUE_UNIT)
  return n
}

/** The weight of each value list in a filter (ids, authors, kinds, each tag as "#x"): what limits count. */
export function valueLists(f: NormFilter): Array<[field: string, values: number]> {
  const out: Array<[string, number]> = []
  if (f.ids) out.push(['ids', f.ids.size])
  if (f.authors) out.push(['authors', f.authors.size])
  if (f.kinds) out.push(['kinds', f.kinds.size])
  if (f.tags) for (const [letter, values] of f.tags) out.push([`#${letter}`, tagWeight(values)])
  return out
}

/** All the values a set of filters holds. */
export function countValues(filters: NormFilter[]): number {
  let n = 0
  for (const f of filters) for (const [, size] of valueLists(f)) n += size
  return n
}

/** True when the filter can match no event at all (an empty set anywhere, since > until, search). */
export function isEmptyFilter(f: NormFilter): boolean {
  if (f.ids?.size === 0 || f.authors?.size === 0 || f.kinds?.size === 0) return true
  if (f.tags) for (const values of f.tags.values()) if (values.size === 0) return true
  if (f.since !== undefined && f.until !== undefined && f.since > f.until) return true
  return f.search !== undefined
}

function matchTags(tags: Map<string, Set<string>>, event: NostrEvent): boolean {
  for (const [letter, values] of tags) {
    let found = false
    for (const tag of event.tags) {
      if (tag[0] === letter && tag.length > 1 && values.has(tag[1])) {
        found = true
        break
      }
    }
    if (!found) return false
  }
  return true
}

/** NIP-01 match: every present field must match; since and until are inclusive. */
export function matchFilter(f: NormFilter, event: NostrEvent): boolean {
  if (f.search !== undefined) return false
  if (f.ids && !f.ids.has(event.id)) return false
  if (f.kinds && !f.kinds.has(event.kind)) return false
  if (f.authors && !f.authors.has(event.pubkey)) return false
  if (f.since !== undefined && event.created_at < f.since) return false
  if (f.until !== undefined && event.created_at > f.until) return false
  return f.tags === undefined || matchTags(f.tags, event)
}
