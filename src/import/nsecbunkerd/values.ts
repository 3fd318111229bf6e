// Column values as nsecbunkerd's Prisma client left them in SQLite: DateTime as integer epoch
// milliseconds (Prisma's native SQLite connector), or as text where SQLite's CURRENT_TIMESTAMP
// default or a table-copying migration wrote it; Boolean as 0/1. Each converter returns undefined
// for a value it cannot read, so that the caller can name the row and column.

/** Epoch milliseconds; null stays null. */
export function toMs(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') v = Number(v)
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined
  if (typeof v !== 'string') return undefined
  if (/^-?\d+$/.test(v)) return toMs(Number(v))
  // SQLite's own format, UTC without a zone: "2023-06-03 13:41:35" (optionally with .fff)
  const sqlite = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(v)
  const ms = Date.parse(sqlite ? `${sqlite[1]}T${sqlite[2]}Z` : v)
  return Number.isNaN(ms) ? undefined : ms
}

export function toBool(v: unknown): boolean | null | undefined {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v
  if (v === 0 || v === 1 || v === 0n || v === 1n) return Number(v) === 1
  if (v === 'true' || v === 'false') return v === 'true'
  return undefined
}

export function toInt(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined
}

export function nonNegative(v: unknown): number | null | undefined {
  const n = toInt(v)
  return n === undefined || (n !== null && n < 0) ? undefined : n
}

/** A policy rule's or signing condition's kind: null, "" and "all" mean any kind. */
export function toKind(v: unknown): number | null | undefined {
  if (v === null || v === undefined || v === '' || v === 'all') return null
  const n = toInt(v)
  return n !== null && n !== undefined && n >= 0 && n <= 65535 ? n : undefined
}

export const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
