import { describe, expect, test } from 'vitest'
import { isEmptyFilter, matchFilter, normaliseFilter, type NormFilter } from '../../relay/filter.ts'
import type { NostrEvent } from '../../relay/event.ts'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const ev: NostrEvent = {
  id: '1'.repeat(64),
  pubkey: A,
  created_at: 100,
  kind: 1,
  tags: [
    ['p', B],
    ['t', 'nostr'],
    ['e', 'x', 'relay'],
  ],
  content: '',
  sig: '0'.repeat(128),
}
const norm = (raw: unknown): NormFilter => {
  const f = normaliseFilter(raw)
  if (typeof f === 'string') throw new Error(f)
  return f
}

describe('filters', () => {
  test('every field matches, absent fields match everything', () => {
    expect(matchFilter(norm({}), ev)).toBe(true)
    expect(matchFilter(norm({ authors: [A], kinds: [1], '#p': [B], '#t': ['nostr'] }), ev)).toBe(true)
    expect(matchFilter(norm({ authors: [B] }), ev)).toBe(false)
    expect(matchFilter(norm({ kinds: [2] }), ev)).toBe(false)
    expect(matchFilter(norm({ '#t': ['other'] }), ev)).toBe(false)
    expect(matchFilter(norm({ '#e': ['x'] }), ev)).toBe(true)
    expect(matchFilter(norm({ '#q': ['x'] }), ev)).toBe(false)
  })

  test('since and until are inclusive', () => {
    expect(matchFilter(norm({ since: 100, until: 100 }), ev)).toBe(true)
    expect(matchFilter(norm({ since: 101 }), ev)).toBe(false)
    expect(matchFilter(norm({ until: 99 }), ev)).toBe(false)
  })

  test('bad fields are rejected with invalid: reasons', () => {
    expect(normaliseFilter({ authors: ['abc'] })).toMatch(/^invalid: authors/)
    expect(normaliseFilter({ ids: 'x' })).toMatch(/^invalid: ids/)
    expect(normaliseFilter({ kinds: [-1] })).toMatch(/^invalid: kinds/)
    expect(normaliseFilter({ kinds: [1.5] })).toMatch(/^invalid: kinds/)
    expect(normaliseFilter({ since: 'yesterday' })).toMatch(/^invalid: since/)
    expect(normaliseFilter({ '#p': [1] })).toMatch(/^invalid: #p/)
    expect(normaliseFilter({ bogus: 1 })).toMatch(/^invalid: unknown filter field/)
    expect(normaliseFilter([])).toMatch(/^invalid: filter must be an object/)
  })

  test('empty sets and search match nothing', () => {
    expect(isEmptyFilter(norm({ ids: [] }))).toBe(true)
    expect(isEmptyFilter(norm({ since: 5, until: 4 }))).toBe(true)
    expect(isEmptyFilter(norm({ search: 'x' }))).toBe(true)
    expect(matchFilter(norm({ search: 'x' }), ev)).toBe(false)
    expect(isEmptyFilter(norm({ kinds: [1] }))).toBe(false)
  })
})
