// Raw rows as the two drivers hand them over, and their conversion to plain typed values. SQLite
// keeps LNbits' booleans as 0/1; PostgreSQL returns BIGINT as text (pg) and booleans as booleans.

export interface RelayRow {
  id: unknown
  user_id: unknown
  name: unknown
  description: unknown
  pubkey: unknown
  contact: unknown
  active: unknown
  meta: unknown
}

export interface AccountRow {
  pubkey: unknown
  sats: unknown
  storage: unknown
  paid_to_join: unknown
  allowed: unknown
  blocked: unknown
}

/** An `events` row with its `event_tags` rows, in the order they were inserted. */
export interface EventRow {
  id: unknown
  pubkey: unknown
  created_at: unknown
  kind: unknown
  content: unknown
  sig: unknown
  publisher: unknown
  tags: TagRow[]
  /** Set when the event had more tag rows than the reader holds; they were dropped. */
  tagRowsOverLimit?: boolean
}

export interface TagRow {
  name: unknown
  value: unknown
  extra: unknown
}

export function toBool(v: unknown): boolean | undefined {
  if (v === null || v === undefined) return false
  if (typeof v === 'boolean') return v
  if (v === 0 || v === 1) return v === 1
  if (typeof v === 'bigint' && (v === 0n || v === 1n)) return v === 1n
  if (typeof v === 'string' && /^(t|f|true|false|0|1)$/i.test(v)) return /^(t|true|1)$/i.test(v)
  return undefined
}

/** A non-negative safe integer from a number, a bigint or decimal text; undefined otherwise. */
export function toCount(v: unknown): number | undefined {
  if (v === null || v === undefined) return 0
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

export const toText = (v: unknown): string | null => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v))

/**
 * Rebuilds one tag as LNbits did on read: [name, value, ...JSON.parse(extra)]. Returns a reason
 * when the stored pieces cannot make a tag of strings.
 */
export function rebuildTag(t: TagRow): string[] | string {
  if (typeof t.name !== 'string' || typeof t.value !== 'string') return 'tag name/value is not text'
  if (t.extra === null || t.extra === undefined || t.extra === '') return [t.name, t.value]
  if (typeof t.extra !== 'string') return 'tag extra is not text'
  let rest: unknown
  try {
    rest = JSON.parse(t.extra)
  } catch {
    return `tag extra is not JSON: ${t.extra.slice(0, 60)}`
  }
  if (!Array.isArray(rest) || !rest.every((x) => typeof x === 'string')) return 'tag extra is not a JSON array of strings'
  return [t.name, t.value, ...rest]
}
