// Pure parts of the account provider: token buckets, name rules, and the names document.
import { describe, expect, test } from 'vitest'
import { nameProblem, parseAddress } from '../../plugin/bunker/account-names.ts'
import { nip05Document } from '../../plugin/bunker/nip05.ts'
import { createCreationLimit } from '../../plugin/bunker/creation-limit.ts'

describe('rate limit', () => {
  test('a bucket per source and one for all; refills over the period; 0 is no bound', () => {
    let t = 0
    const limit = createCreationLimit({ perSource: 2, global: 3, periodMs: 3600, now: () => t })
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([true, true, false])
    expect([limit.take('b'), limit.take('b')]).toEqual([true, false]) // the global bucket is empty
    t = 1800 // half the period: one token back for 'a', one and a half for all
    expect([limit.take('a'), limit.take('c')]).toEqual([true, false])
    const open = createCreationLimit({ perSource: 0, global: 0, periodMs: 1 })
    for (let i = 0; i < 100; i++) expect(open.take('x')).toBe(true)
  })

  test('an unknown source meets only the global bound', () => {
    const limit = createCreationLimit({ perSource: 1, global: 2, periodMs: 3600, now: () => 0 })
    expect([limit.take(undefined), limit.take(undefined), limit.take(undefined)]).toEqual([true, true, false])
  })
})

describe('names', () => {
  const rules = { domains: ['example.com'], pattern: /^[a-z0-9][a-z0-9._-]{0,31}$/, reserved: new Set(['admin']) }
  test('NIP-05 local parts, the pattern, reserved names', () => {
    expect(nameProblem('alice', rules)).toBeUndefined()
    expect(nameProblem('a.b_c-d', rules)).toBeUndefined()
    for (const bad of ['', 'Alice', 'a b', 'a@b', 'é', 'x'.repeat(65)]) expect(nameProblem(bad, rules)).toMatch(/a-z/)
    expect(nameProblem('_', rules)).toMatch(/reserved/)
    expect(nameProblem('admin', rules)).toMatch(/reserved/)
    expect(nameProblem('.dot', rules)).toMatch(/does not match/)
  })

  test('parseAddress lowercases and refuses malformed halves', () => {
    expect(parseAddress('Bob@Example.COM')).toEqual({ local: 'bob', domain: 'example.com', id: 'bob@example.com' })
    for (const bad of ['bob', '@example.com', 'bob@', 'bob@localhost', 'b b@example.com', 42]) expect(parseAddress(bad)).toBeUndefined()
  })
})

describe('nostr.json', () => {
  const src = (domains: string[]) => ({
    domains: () => domains,
    lookup: (local: string, domain: string) => (local === 'bob' && domain === 'b.test' ? 'f'.repeat(64) : undefined),
    relays: () => ['wss://r.test'],
  })
  const bob = { names: { bob: 'f'.repeat(64) }, nip46: { ['f'.repeat(64)]: ['wss://r.test'], relays: ['wss://r.test'] } }

  test('the Host picks the domain (port and case ignored); one domain served answers whatever the Host', () => {
    expect(JSON.parse(nip05Document(src(['a.test', 'b.test']), { query: 'name=bob', host: 'B.test:8443' }))).toEqual(bob)
    expect(JSON.parse(nip05Document(src(['a.test', 'b.test']), { query: 'name=bob', host: 'a.test' }))).toEqual({ names: {} })
    expect(JSON.parse(nip05Document(src(['a.test', 'b.test']), { query: 'name=bob', host: '127.0.0.1:7777' }))).toEqual({ names: {} })
    expect(JSON.parse(nip05Document(src(['b.test']), { query: 'name=BOB', host: '127.0.0.1:7777' }))).toEqual(bob)
    expect(JSON.parse(nip05Document(src([]), { query: 'name=bob', host: 'b.test' }))).toEqual({ names: {} })
  })

  test('no name, a bad name, an unknown name: {"names":{}}', () => {
    for (const query of ['', 'name=', 'name=%ZZ', 'name=a%20b', 'name=carol', `name=${'x'.repeat(500)}`])
      expect(nip05Document(src(['b.test']), { query, host: 'b.test' })).toBe('{"names":{}}')
  })
})
