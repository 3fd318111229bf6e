// Turns an `events` row and its tag rows back into a Nostr event and proves it: the id is
// recomputed and the signature checked, as if the event had just arrived from a client. LNbits
// before 1.0 stripped anything that looked like HTML from every stored string (content and tags),
// and inserted a re-sent event's tags a second time; the first cannot be undone (the event is
// refused), the second can: tags that are k exact copies of one list are tried as that list.
import type { NostrEvent } from '../../../relay/event.ts'
import { shapeError } from '../../../relay/event.ts'
import { checkEvent } from '../../../relay/verify.ts'
import { type EventRow, rebuildTag, toText } from './rows.ts'

export type EventVerdict =
  | { ok: true; event: NostrEvent; publisher: string; repaired: boolean }
  | { ok: false; code: 'malformed' | 'bad-id' | 'bad-sig'; reason: string }

export function verifyEventRow(row: EventRow): EventVerdict {
  const built = buildEvent(row)
  if (typeof built === 'string') return { ok: false, code: 'malformed', reason: built }
  const publisher = toText(row.publisher) ?? built.pubkey
  const check = checkEvent(built)
  if (check === 'ok') return { ok: true, event: built, publisher, repaired: false }
  if (check === 'bad-sig') return { ok: false, code: 'bad-sig', reason: 'bad-sig: the signature does not match the event' }
  const repaired = dedupeTags(built)
  if (repaired) return { ok: true, event: repaired, publisher, repaired: true }
  return { ok: false, code: 'bad-id', reason: 'bad-id: the stored fields do not hash to the id (content or tags were changed in storage)' }
}

function buildEvent(row: EventRow): NostrEvent | string {
  if (row.tagRowsOverLimit) return `malformed: more than ${row.tags.length} tag rows`
  const tags: string[][] = []
  for (const t of row.tags) {
    const tag = rebuildTag(t)
    if (typeof tag === 'string') return `malformed: ${tag}`
    tags.push(tag)
  }
  const createdAt = typeof row.created_at === 'string' && /^\d+$/.test(row.created_at) ? Number(row.created_at) : row.created_at
  const kind = typeof row.kind === 'string' && /^\d+$/.test(row.kind) ? Number(row.kind) : row.kind
  const e = { id: row.id, pubkey: row.pubkey, created_at: createdAt, kind, tags, content: row.content, sig: row.sig }
  const shape = shapeError(e)
  return shape ? `malformed: ${shape.replace(/^invalid: /, '')}` : (e as NostrEvent)
}

/** The shortest repeating unit of the tag list whose event hashes to the id, if any. */
function dedupeTags(e: NostrEvent): NostrEvent | undefined {
  const n = e.tags.length
  for (let period = 1; period <= n / 2; period++) {
    if (n % period !== 0 || !isPeriodic(e.tags, period)) continue
    const candidate = { ...e, tags: e.tags.slice(0, period) }
    if (checkEvent(candidate) === 'ok') return candidate
  }
  return undefined
}

function isPeriodic(tags: string[][], period: number): boolean {
  for (let i = period; i < tags.length; i++) {
    const a = tags[i]
    const b = tags[i - period]
    if (a.length !== b.length || a.some((x, j) => x !== b[j])) return false
  }
  return true
}
