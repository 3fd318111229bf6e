// Stored queries: each filter walks its most selective index newest first and stops at its limit.
// Reads are synchronous (memory-mapped LMDB), so a REQ's stored events and its EOSE go out in one
// turn, with no live event interleaved before EOSE.
import { matchFilter, type NormFilter } from '../filter.ts'
import type { NostrEvent } from '../event.ts'
import { MAX_INDEXED_TAG_VALUE, type IndexKey } from './keys.ts'
import type { StoreDbs } from './write.ts'

export interface Found {
  id: string
  created_at: number
  json: string
}

interface Plan {
  prefixes: IndexKey[]
  /** The index alone decides the match: no need to load and parse each candidate. */
  covered: boolean
}

/** More (author, kind) pairs than this and the author index alone is walked instead. */
const MAX_PAIRS = 64

function tagPlan(f: NormFilter): Plan | undefined {
  if (!f.tags) return undefined
  let best: [string, Set<string>] | undefined
  for (const entry of f.tags) {
    if ([...entry[1]].some((v) => v.length > MAX_INDEXED_TAG_VALUE)) continue
    if (!best || entry[1].size < best[1].size) best = entry
  }
  if (!best) return undefined
  const [letter, values] = best
  const prefixes = [...values].map((v): IndexKey => ['t', letter, v])
  return { prefixes, covered: f.tags.size === 1 && !f.authors && !f.kinds }
}

function plan(f: NormFilter): Plan {
  const onlyTime = !f.tags
  if (f.authors && f.kinds && f.authors.size * f.kinds.size <= MAX_PAIRS) {
    const prefixes: IndexKey[] = []
    for (const a of f.authors) for (const k of f.kinds) prefixes.push(['ak', a, k])
    return { prefixes, covered: onlyTime }
  }
  if (f.authors) return { prefixes: [...f.authors].map((a): IndexKey => ['a', a]), covered: onlyTime && !f.kinds }
  const byTag = tagPlan(f)
  if (byTag) return byTag
  if (f.kinds) return { prefixes: [...f.kinds].map((k): IndexKey => ['k', k]), covered: onlyTime }
  return { prefixes: [['c']], covered: onlyTime }
}

export interface QueryOptions {
  now: number
  /** Most index entries one filter may examine, so a broad filter cannot stall the process. */
  scanBudget: number
}

function byIds(dbs: StoreDbs, f: NormFilter, now: number, out: Found[]): void {
  for (const id of f.ids!) {
    const json = dbs.events.get(id)
    if (json === undefined) continue
    const e = JSON.parse(json) as NostrEvent
    if (!matchFilter(f, e) || isExpired(e, now)) continue
    out.push({ id, created_at: e.created_at, json })
  }
}

function isExpired(e: NostrEvent, now: number): boolean {
  for (const t of e.tags) if (t[0] === 'expiration') return Number(t[1]) > 0 && Number(t[1]) <= now
  return false
}

/** Walks one index prefix newest first, pushing matches until `limit` (ties at the cut included). */
function walk(dbs: StoreDbs, prefix: IndexKey, f: NormFilter, covered: boolean, limit: number, opts: QueryOptions, out: Found[]) {
  const start = [...prefix, f.until === undefined ? Number.MAX_SAFE_INTEGER : f.until + 1]
  const end = [...prefix, f.since ?? 0]
  let taken = 0
  let budget = opts.scanBudget
  let cutTs = -1
  for (const { key, value } of dbs.index.getRange({ start, end, reverse: true })) {
    if (--budget < 0) break
    const ts = key[key.length - 2] as number
    if (taken >= limit && ts !== cutTs) break
    if (value !== 0 && value <= opts.now) continue
    const id = key[key.length - 1] as string
    const json = dbs.events.get(id)
    if (json === undefined) continue
    if (!covered && !matchFilter(f, JSON.parse(json) as NostrEvent)) continue
    out.push({ id, created_at: ts, json })
    if (++taken === limit) cutTs = ts
  }
}

/** NIP-01 order: newest first, ties by lowest id. */
const newestFirst = (a: Found, b: Found): number => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Runs one filter. `limit` is the effective limit after the relay's caps. */
export function queryFilter(dbs: StoreDbs, f: NormFilter, limit: number, opts: QueryOptions): Found[] {
  if (limit <= 0) return []
  const out: Found[] = []
  if (f.ids) byIds(dbs, f, opts.now, out)
  else {
    const { prefixes, covered } = plan(f)
    for (const prefix of prefixes) walk(dbs, prefix, f, covered, limit, opts, out)
  }
  out.sort(newestFirst)
  if (out.length > limit) out.length = limit
  return out
}

/** Runs every filter of a REQ and merges them without duplicates, each filter keeping its own limit. */
export function queryFilters(dbs: StoreDbs, filters: Array<{ filter: NormFilter; limit: number }>, opts: QueryOptions): Found[] {
  if (filters.length === 1) return queryFilter(dbs, filters[0].filter, filters[0].limit, opts)
  const seen = new Set<string>()
  const out: Found[] = []
  for (const { filter, limit } of filters) {
    for (const found of queryFilter(dbs, filter, limit, opts)) {
      if (seen.has(found.id)) continue
      seen.add(found.id)
      out.push(found)
    }
  }
  return out.sort(newestFirst)
}
