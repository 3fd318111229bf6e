// What the importer needs from an LNbits nostrrelay database, whichever engine holds it. Every
// method streams: a relay may hold millions of events, and LNbits created no index on event_tags,
// so tags are not looked up per event but read as a second stream in the same order as the events
// and merged into them.
import type { AccountRow, EventRow, RelayRow, TagRow } from './rows.ts'

export interface LnbitsSource {
  /** What errors name: the file, or the PostgreSQL URL without its password. */
  readonly label: string
  /** The `relays` table (one row per relay: small). */
  relays(): Promise<RelayRow[]>
  accounts(relayId: string): AsyncIterable<AccountRow>
  /** The relay's events that are not soft-deleted, by created_at then id, tags in row order. */
  events(relayId: string, opts?: { kind?: number }): AsyncIterable<EventRow>
  /** How many of the relay's events LNbits soft-deleted. */
  softDeleted(relayId: string): Promise<number>
  /** Events whose relay_id names no relay, counted per relay_id. */
  orphanEvents(): Promise<Array<{ relayId: string; events: number }>>
  close(): Promise<void>
}

export interface SourceOptions {
  /** An event with more tag rows than this is refused without holding them (default 100,000). */
  maxTagRows?: number
  /** Rows per round trip where the engine fetches in batches (PostgreSQL; default 1000). */
  batchSize?: number
}

export const DEFAULT_MAX_TAG_ROWS = 100_000
export const DEFAULT_BATCH_SIZE = 1000

/** An events row as both queries key it: the row's created_at and id, read from `events`. */
export type EventCols = Omit<EventRow, 'tags'>
export type KeyedTag = TagRow & { created_at: unknown; event_id: unknown }

/**
 * Merges the tag stream into the event stream. Both are ordered by (created_at, id) with the
 * engine's binary collation, which is what `compareKeys` reproduces; a tag row whose event is not
 * in the event stream (the tables changed between the two reads) is passed over.
 */
export async function* withTags(events: AsyncIterable<EventCols>, tags: AsyncIterable<KeyedTag>, maxTagRows: number): AsyncGenerator<EventRow> {
  const it = tags[Symbol.asyncIterator]()
  try {
    let head = await it.next()
    for await (const e of events) {
      const row: EventRow = { ...e, tags: [] }
      while (!head.done) {
        const c = compareKeys(head.value.created_at, head.value.event_id, e.created_at, e.id)
        if (c > 0) break
        if (c === 0) {
          if (row.tags.length < maxTagRows) row.tags.push({ name: head.value.name, value: head.value.value, extra: head.value.extra })
          else row.tagRowsOverLimit = true
        }
        head = await it.next()
      }
      yield row
    }
  } finally {
    await it.return?.()
  }
}

function compareKeys(ca: unknown, ia: unknown, cb: unknown, ib: unknown): number {
  return compareValues(ca, cb) || compareText(String(ia), String(ib))
}

// SQLite orders numbers before text, text by bytes; PostgreSQL's BIGINT is handed over as text.
// Runs once per tag row: the common cases (two numbers, two digit strings, hex ids) stay cheap.
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const da = typeof a === 'string' && DIGITS.test(a)
  const db = typeof b === 'string' && DIGITS.test(b)
  if (da && db) return (a as string).length - (b as string).length || compareText(a as string, b as string)
  const na = typeof a === 'number' || da
  const nb = typeof b === 'number' || db
  if (na && nb) return Number(a) - Number(b)
  if (na !== nb) return na ? -1 : 1
  return compareText(String(a), String(b))
}

const DIGITS = /^\d+$/
// UTF-16 order is UTF-8 byte order except around surrogates: those go through bytes.
const SURROGATE_OR_ABOVE = /[\ud800-\uffff]/

function compareText(a: string, b: string): number {
  if (a === b) return 0
  if (SURROGATE_OR_ABOVE.test(a) || SURROGATE_OR_ABOVE.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b))
  return a < b ? -1 : 1
}
