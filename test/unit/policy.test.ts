// The policy hook builders, one by one: what each refuses, with which prefix, and what it lets pass.
import { describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { identityRefusal } from '../../relay/policy/auth.ts'
import { createdAtWithin, maxEventTags, notExpired, protectedEvents } from '../../relay/policy/events.ts'
import { maxConnectionValues, maxFilters, maxFilterValues, maxHeldValues, maxSubscriptions } from '../../relay/policy/filters.ts'
import { eventsPerMinute } from '../../relay/policy/rate.ts'
import { now, signed } from '../helpers/clients.ts'
import { client, conn, filters } from '../helpers/policy.ts'

const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('filter policies', () => {
  test('maxFilters counts the filters of a REQ', () => {
    expect(maxFilters(2)(filters({}, {}), conn(), 'REQ')).toBeUndefined()
    expect(maxFilters(2)(filters({}, {}, {}), conn(), 'COUNT')).toBe('invalid: too many filters (max 2)')
  })

  test('maxFilterValues weighs every list on its own, long tag values once per 64 characters', () => {
    const hook = maxFilterValues(3)
    expect(hook(filters({ kinds: [1, 2, 3], '#t': values(3), '#p': values(3) }), conn(), 'REQ')).toBeUndefined()
    expect(hook(filters({ kinds: [1] }, { '#e': values(4) }), conn(), 'REQ')).toBe('invalid: too many values in #e (max 3)')
    expect(hook(filters({ authors: values(4).map(() => getPublicKey(generateSecretKey())) }), conn(), 'COUNT')).toMatch(/in authors/)
    expect(hook(filters({ '#d': ['x'.repeat(192)] }), conn(), 'REQ')).toBeUndefined()
    expect(hook(filters({ '#d': ['x'.repeat(193)] }), conn(), 'REQ')).toBe('invalid: too many values in #d (max 3)')
  })

  test('maxSubscriptions and maxConnectionValues weigh what the connection already holds, for a REQ only', () => {
    expect(maxSubscriptions(2)(filters({}), conn({ subscriptions: 1 }), 'REQ')).toBeUndefined()
    expect(maxSubscriptions(2)(filters({}), conn({ subscriptions: 2 }), 'REQ')).toBe('rate-limited: too many open subscriptions (max 2)')
    expect(maxSubscriptions(2)(filters({}), conn({ subscriptions: 2 }), 'COUNT')).toBeUndefined()
    const hook = maxConnectionValues(10)
    expect(hook(filters({ '#t': values(4) }, { kinds: [1] }), conn({ filterValues: 5 }), 'REQ')).toBeUndefined()
    expect(hook(filters({ '#t': values(5) }, { kinds: [1] }), conn({ filterValues: 5 }), 'REQ')).toMatch(/^rate-limited: too many filter values/)
    expect(hook(filters({ '#t': values(50) }), conn({ filterValues: 5 }), 'COUNT')).toBeUndefined()
  })

  test('maxHeldValues reads the relay-wide total when asked', () => {
    let held = 0
    const hook = maxHeldValues(10, () => held)
    expect(hook(filters({ '#t': values(10) }), conn(), 'REQ')).toBeUndefined()
    held = 8
    expect(hook(filters({ '#t': values(3) }), conn(), 'REQ')).toMatch(/^rate-limited: the relay holds too many/)
    expect(hook(filters({ '#t': values(3) }), conn(), 'COUNT')).toBeUndefined()
  })
})

describe('event policies', () => {
  test('tags, created_at bounds, expiry', () => {
    expect(maxEventTags(1)(signed({ tags: [['t', 'a']] }), client())).toBeUndefined()
    expect(
      maxEventTags(1)(
        signed({
          tags: [
            ['t', 'a'],
            ['t', 'b'],
          ],
        }),
        client(),
      ),
    ).toBe('invalid: too many tags (max 1)')
    const window = createdAtWithin(60, 600)
    expect(window(signed({ created_at: now() + 30 }), client())).toBeUndefined()
    expect(window(signed({ created_at: now() + 120 }), client())).toMatch(/^invalid: created_at is too far in the future/)
    expect(window(signed({ created_at: now() - 1200 }), client())).toMatch(/^invalid: created_at is too far in the past/)
    expect(createdAtWithin(60, 0)(signed({ created_at: 1 }), client())).toBeUndefined()
    expect(notExpired(signed({ tags: [['expiration', String(now() - 1)]] }), client())).toBe('invalid: event has expired')
    expect(notExpired(signed({ tags: [['expiration', String(now() + 60)]] }), client())).toBeUndefined()
  })

  test('NIP-70: auth-required: before AUTH, restricted: when authenticated as someone else', () => {
    const sk = generateSecretKey()
    const e = signed({ tags: [['-']] }, sk)
    expect(protectedEvents(e, client())).toBe('auth-required: this event may only be published by its author')
    expect(protectedEvents(e, client(conn({ authed: new Set(['f'.repeat(64)]) })))).toBe('restricted: this event may only be published by its author')
    expect(protectedEvents(e, client(conn({ authed: new Set([getPublicKey(sk)]) })))).toBeUndefined()
    expect(protectedEvents(e, { type: 'local' })).toBeUndefined()
    expect(identityRefusal(conn(), 'x')).toBe('auth-required: x')
  })

  test('eventsPerMinute counts per connection, and only client events', () => {
    const hook = eventsPerMinute(2)
    const a = client(conn({ id: 1 }))
    const b = client(conn({ id: 2 }))
    expect([hook(signed(), a), hook(signed(), a), hook(signed(), a)]).toEqual([undefined, undefined, 'rate-limited: more than 2 events a minute'])
    expect(hook(signed(), b)).toBeUndefined()
    expect(hook(signed(), { type: 'local' })).toBeUndefined()
  })
})
