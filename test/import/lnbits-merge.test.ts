// Merging the tag stream into the event stream: both ordered by (created_at, id) as the engines
// order them, and tag rows whose event is missing from the event stream passed over.
import { describe, expect, it } from 'vitest'
import type { EventRow } from '../../src/import/lnbits/rows.ts'
import { type EventCols, type KeyedTag, withTags } from '../../src/import/lnbits/source.ts'

async function* stream<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}

const ev = (created_at: unknown, id: string): EventCols => ({ id, created_at, pubkey: '', kind: 1, content: '', sig: '', publisher: '' })
const tag = (created_at: unknown, event_id: string, value: string): KeyedTag => ({ created_at, event_id, name: 't', value, extra: null })

async function merge(events: EventCols[], tags: KeyedTag[], max = 100): Promise<Array<[string, string[], boolean | undefined]>> {
  const out: EventRow[] = []
  for await (const e of withTags(stream(events), stream(tags), max)) out.push(e)
  return out.map((e) => [e.id as string, e.tags.map((t) => t.value as string), e.tagRowsOverLimit])
}

describe('withTags', () => {
  it('numbers (SQLite) and digit strings (PostgreSQL BIGINT) order as numbers, ids by bytes', async () => {
    for (const t of [(n: number) => n, (n: number) => String(n)]) {
      const events = [ev(t(9), 'b'), ev(t(10), 'a'), ev(t(10), 'aa'), ev(t(100), 'Z'), ev(t(100), 'é')]
      const tags = [tag(t(9), 'b', '1'), tag(t(9), 'b', '2'), tag(t(10), 'aa', '3'), tag(t(100), 'é', '4')]
      expect(await merge(events, tags)).toEqual([
        ['b', ['1', '2'], undefined],
        ['a', [], undefined],
        ['aa', ['3'], undefined],
        ['Z', [], undefined],
        ['é', ['4'], undefined],
      ])
    }
  })

  it('passes over tag rows of events the event stream does not have', async () => {
    const events = [ev(1, 'a'), ev(3, 'c')]
    const tags = [tag(0, 'x', 'before'), tag(1, 'a', '1'), tag(2, 'b', 'between'), tag(3, 'c', '3'), tag(4, 'd', 'after')]
    expect(await merge(events, tags)).toEqual([
      ['a', ['1'], undefined],
      ['c', ['3'], undefined],
    ])
  })

  it('holds at most maxTagRows per event and marks the event', async () => {
    const tags = Array.from({ length: 5 }, (_, i) => tag(1, 'a', String(i)))
    expect(await merge([ev(1, 'a'), ev(2, 'b')], [...tags, tag(2, 'b', 'x')], 3)).toEqual([
      ['a', ['0', '1', '2'], true],
      ['b', ['x'], undefined],
    ])
  })
})
