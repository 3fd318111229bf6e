// Query planning: which index prefixes one filter walks, and what the walk must still check per
// entry. Index values carry the kind (keys.ts), so `kinds` is checked from the index; other tag
// letters are checked by index lookups of the same event's tag keys. Only what the index cannot
// decide (many tag values on a REQ, values too long to be indexed) falls back to loading the event.
import { isEmptyFilter, type NormFilter } from '../filter.ts'
import { MAX_INDEXED_TAG_VALUE, type IndexKey } from './keys.ts'

export interface Plan {
  prefixes: IndexKey[]
  /** The walked index does not imply `kinds`: check the kind held in the index value. */
  kindCheck: boolean
  /** Tag letters the walk does not cover, checked by looking up ['t', letter, value, ts, id]. */
  tagChecks?: Array<[letter: string, values: string[]]>
  /** Match on the loaded event instead of the index lookups above. */
  bodyCheck: boolean
}

/** More (author, kind) pairs than this and the author index alone is walked instead. */
const MAX_PAIRS = 64
/** A REQ checks more tag values than this on the loaded event (cheaper than that many lookups). */
const MAX_LOOKUPS = 8

const indexable = (values: Set<string>): boolean => {
  for (const v of values) if (v.length > MAX_INDEXED_TAG_VALUE) return false
  return true
}

/** The tag letter to walk: the one with fewest values, all of them indexed. */
function walkedTag(f: NormFilter): string | undefined {
  let best: [string, Set<string>] | undefined
  for (const entry of f.tags ?? []) if (indexable(entry[1]) && (!best || entry[1].size < best[1].size)) best = entry
  return best?.[0]
}

function walk(f: NormFilter): { prefixes: IndexKey[]; kindCheck: boolean; tag?: string } {
  if (f.authors && f.kinds && f.authors.size * f.kinds.size <= MAX_PAIRS) {
    const prefixes: IndexKey[] = []
    for (const a of f.authors) for (const k of f.kinds) prefixes.push(['ak', a, k])
    return { prefixes, kindCheck: false }
  }
  if (f.authors) return { prefixes: [...f.authors].map((a): IndexKey => ['a', a]), kindCheck: f.kinds !== undefined }
  const tag = walkedTag(f)
  if (tag) return { prefixes: [...f.tags!.get(tag)!].map((v): IndexKey => ['t', tag, v]), kindCheck: f.kinds !== undefined, tag }
  if (f.kinds) return { prefixes: [...f.kinds].map((k): IndexKey => ['k', k]), kindCheck: false }
  return { prefixes: [['c']], kindCheck: false }
}

/** Plans a filter without `ids` (those are read directly). `count`: avoid loading events. */
export function plan(f: NormFilter, count: boolean): Plan {
  if (isEmptyFilter(f)) return { prefixes: [], kindCheck: false, bodyCheck: false }
  const { prefixes, kindCheck, tag } = walk(f)
  const rest = [...(f.tags ?? [])].filter(([letter]) => letter !== tag)
  if (rest.length === 0) return { prefixes, kindCheck, bodyCheck: false }
  const lookups = rest.reduce((n, [, values]) => n + values.size, 0)
  if (rest.every(([, values]) => indexable(values)) && (count || lookups <= MAX_LOOKUPS))
    return { prefixes, kindCheck, tagChecks: rest.map(([letter, values]) => [letter, [...values]]), bodyCheck: false }
  return { prefixes, kindCheck: false, bodyCheck: true }
}
