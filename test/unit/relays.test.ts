// The pieces of hosted relays on a real LMDB environment and as pure functions: keyspace stores in
// the shared databases, records per relay id, settings patches in either key style, and the new
// policy hook builders.
import { describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { onlyToTaggedReaders } from '../../relay/policy/delivery.ts'
import { authForKinds, createdAtBounds, kindsAccepted } from '../../relay/policy/events.ts'
import { authToRead, maxConnectionFilters } from '../../relay/policy/filters.ts'
import { eventsPerWindow } from '../../relay/policy/rate.ts'
import { openEnvironment, openStore } from '../../relay/store/store.ts'
import { openRelayRecords } from '../../src/relays/records.ts'
import { defaultSettings, patchSettings, relayIdOf } from '../../src/relays/settings.ts'
import { now, signed } from '../helpers/clients.ts'
import { tempDir } from '../helpers/server.ts'
import type { Filter } from '../../relay/filter.ts'
import { client, conn, filters } from '../helpers/policy.ts'

const json = (e: object) => JSON.stringify(e)

async function ids(store: ReturnType<typeof openStore>, filter: Filter = {}): Promise<string[]> {
  const cursor = store.cursor({ filters: filters(filter).map((f) => ({ filter: f, limit: 1000 })), now: now(), scanBudget: 1e6 })
  const out: string[] = []
  for (let r = cursor.next(1e6); r !== 'done'; r = cursor.next(1e6)) if (r !== 'busy') out.push(r.id)
  return out
}

describe('keyspace stores', () => {
  test('stores under neighbouring keyspaces and the default store never see each other’s events', async () => {
    const env = openEnvironment(tempDir())
    const [a, b, c] = [openStore(env, { keyspace: 1 }), openStore(env, { keyspace: 2 }), openStore(env)]
    const sk = generateSecretKey()
    const e1 = signed({ created_at: now() - 2 }, sk)
    const e2 = signed({ created_at: now() - 1 }, sk)
    expect((await a.save(e1, json(e1))).ok).toBe(true)
    expect((await b.save(e2, json(e2))).ok).toBe(true)
    expect((await c.save(e1, json(e1))).ok).toBe(true)
    expect(await ids(a)).toEqual([e1.id])
    expect(await ids(b)).toEqual([e2.id])
    expect(await ids(b, { authors: [getPublicKey(sk)] })).toEqual([e2.id])
    expect([a.has(e2.id), b.has(e1.id), c.has(e2.id)]).toEqual([false, false, false])
    expect([a.size, b.size, c.size]).toEqual([1, 1, 1])
    expect(a.usage(getPublicKey(sk))[1]).toBe(1)
    await a.drop()
    expect(await ids(a)).toEqual([])
    expect(await ids(b)).toEqual([e2.id])
    expect(await ids(c)).toEqual([e1.id])
    // a keyspace reopened after its drop starts empty and its layout is rebuilt
    expect(await ids(openStore(env, { keyspace: 1 }))).toEqual([])
    await env.close()
  })

  test('a per-author quota function is read at each save', async () => {
    const env = openEnvironment(tempDir())
    let bytes = 1
    const store = openStore(env, { keyspace: 7, quota: () => ({ bytes, events: 0, action: 'block' }) })
    const e = signed()
    expect((await store.save(e, json(e))).ok).toBe(false)
    bytes = 10_000
    expect((await store.save(e, json(e))).ok).toBe(true)
    expect(await store.remove([e.id, e.id.replace(/^./, 'f')])).toEqual([e.id])
    await env.close()
  })
})

describe('relay records', () => {
  test('accounts, bans and blocked addresses are kept per relay id, also for ids that are prefixes of others', async () => {
    const env = openEnvironment(tempDir())
    const r = openRelayRecords(env)
    const pk = getPublicKey(generateSecretKey())
    const account = { pubkey: pk, sats: 1, storage: 0, paidToJoin: false, allowed: true, blocked: false }
    await r.putAccount('a', account)
    await r.putAccount('ab', { ...account, sats: 2 })
    await r.ban('a', 'e'.repeat(64), 'x')
    await r.blockIp('a.', '10.0.0.1', '')
    expect(r.accounts('a').items.map((x) => x.sats)).toEqual([1])
    expect(r.accounts('ab').items.map((x) => x.sats)).toEqual([2])
    expect([r.isBanned('a', 'e'.repeat(64)), r.isBanned('ab', 'e'.repeat(64))]).toEqual([true, false])
    expect([r.isBlockedIp('a.', '10.0.0.1'), r.isBlockedIp('a', '10.0.0.1')]).toEqual([true, false])
    const one = await r.create({ id: 'a', name: 'a' } as never)
    const two = await r.create({ id: 'ab', name: 'ab' } as never)
    expect(two.ks).toBe(one.ks + 1)
    await expect(r.create({ id: 'a' } as never)).rejects.toThrow(/^duplicate:/)
    await r.remove('a')
    expect([r.get('a'), r.accounts('a').total, r.accounts('ab').total, r.isBanned('a', 'e'.repeat(64))]).toEqual([undefined, 0, 1, false])
    expect((await r.create({ id: 'a' } as never)).ks).toBe(two.ks + 1) // keyspaces are never reused
    await env.close()
  })

  test('relay paths', () => {
    expect(['/', '/nostrrelay/abc', '/nostrrelay/', '/nostrrelay/a/b', '/other', '/nostrrelay/a%20b'].map(relayIdOf)).toEqual([
      '',
      'abc',
      undefined,
      undefined,
      undefined,
      undefined,
    ])
  })
})

describe('settings patches', () => {
  test('take LNbits’ stored names or its API’s; camelCase wins when both are given; bad values are refused', () => {
    const base = defaultSettings()
    const r = patchSettings(base, { max_client_filters: 3, limitPerFilter: 7, limit_per_filter: 9, domain: 'x.example', wallet: 'w' })
    expect(r.ok && r.settings).toMatchObject({ maxClientFilters: 3, limitPerFilter: 7, domain: 'x.example', wallet: 'w', freeStorageValue: 1 })
    const bad = patchSettings(base, { full_storage_action: 'explode' })
    expect(bad.ok).toBe(false)
    expect(patchSettings(base, []).ok).toBe(false)
  })
})

describe('policy builders for hosted relays', () => {
  test('createdAtBounds: 0 leaves that side unbounded', () => {
    expect(createdAtBounds(0, 0)(signed({ created_at: now() + 86400 * 365 }), client())).toBeUndefined()
    expect(createdAtBounds(0, 60)(signed({ created_at: now() + 120 }), client())).toMatch(/future/)
    expect(createdAtBounds(60, 0)(signed({ created_at: now() - 120 }), client())).toMatch(/past/)
  })

  test('kindsAccepted, authForKinds', () => {
    expect(kindsAccepted(new Set([1]), new Set())(signed({ kind: 7 }), client())).toMatch(/^blocked: /)
    expect(kindsAccepted(undefined, new Set([7]))(signed({ kind: 7 }), client())).toMatch(/^blocked: /)
    expect(kindsAccepted(undefined, new Set([7]))(signed({ kind: 1 }), client())).toBeUndefined()
    const hook = authForKinds((k) => k === 4)
    expect(hook(signed({ kind: 4 }), client())).toMatch(/^auth-required: /)
    expect(hook(signed({ kind: 4 }), client(conn({ authed: new Set(['x']) })))).toBeUndefined()
    expect(hook(signed({ kind: 4 }), { type: 'local' })).toBeUndefined()
    expect(hook(signed({ kind: 1 }), client())).toBeUndefined()
  })

  test('maxConnectionFilters and authToRead', () => {
    expect(maxConnectionFilters(3)(filters({}, {}), conn({ filters: 1 }), 'REQ')).toBeUndefined()
    expect(maxConnectionFilters(3)(filters({}, {}), conn({ filters: 2 }), 'REQ')).toMatch(/^rate-limited: /)
    expect(maxConnectionFilters(3)(filters({}, {}), conn({ filters: 2 }), 'COUNT')).toBeUndefined()
    expect(maxConnectionFilters(0)(filters({}), conn({ filters: 99 }), 'REQ')).toBeUndefined()
    expect(authToRead(filters({}), conn(), 'REQ')).toMatch(/^auth-required: /)
    expect(authToRead(filters({}), conn({ authed: new Set(['x']) }), 'COUNT')).toBeUndefined()
  })

  test('eventsPerWindow counts per connection and may keep its counts across rebuilds', () => {
    const windows = new WeakMap()
    const c = conn()
    const first = eventsPerWindow(2, 3_600_000, 'an hour', windows)
    expect([first(signed(), client(c)), first(signed(), client(c))]).toEqual([undefined, undefined])
    const rebuilt = eventsPerWindow(2, 3_600_000, 'an hour', windows)
    expect(rebuilt(signed(), client(c))).toBe('rate-limited: more than 2 events an hour')
    expect(rebuilt(signed(), client(conn()))).toBeUndefined()
  })

  test('onlyToTaggedReaders', () => {
    const bob = getPublicKey(generateSecretKey())
    const hook = onlyToTaggedReaders(new Set([4]))
    const dm = signed({ kind: 4, tags: [['p', bob]] })
    expect(hook(dm, conn())).toBe(true)
    expect(hook(dm, conn({ authed: new Set(['someone']) }))).toBe(true)
    expect(hook(dm, conn({ authed: new Set([bob]) }))).toBe(false)
    expect(hook(signed({ kind: 1 }), conn())).toBe(false)
  })
})
