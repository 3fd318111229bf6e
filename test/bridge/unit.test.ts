// The bridge's pure parts: REQ planning within limits, the subscription book (make-before-break,
// fresh ids, EOSE and probe confirmation, refusals), the outbound queue, the backoff.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createBackoff } from '../../src/bridge/backoff.ts'
import { createOutbox } from '../../src/bridge/outbox.ts'
import { limitsFrom, planReqs, type UpstreamLimits } from '../../src/bridge/plan.ts'
import { createReqBook, type ReqBookOptions } from '../../src/bridge/reqs.ts'
import type { NostrEvent } from '../../relay/relay.ts'

const pk = (i: number) => i.toString(16).padStart(64, '0')
const limits = (o: Partial<UpstreamLimits> = {}): UpstreamLimits => ({
  maxSubscriptions: 10,
  maxFilters: 10,
  maxMessageBytes: 65536,
  maxKeysPerFilter: 256,
  ...o,
})

describe('planReqs', () => {
  test('every filter names its #p values; kinds are grouped; limits on keys, filters and bytes hold', () => {
    const wants = [{ pubkey: pk(0), kinds: [24133, 24134] }, ...Array.from({ length: 1000 }, (_, i) => ({ pubkey: pk(i + 1), kinds: [24133] }))]
    const l = limits({ maxFilters: 3, maxKeysPerFilter: 100, maxMessageBytes: 16 * 1024 })
    const reqs = planReqs(wants, l, { limit: 0 })
    const seen = new Set<string>()
    for (const r of reqs) {
      expect(r.filters.length).toBeLessThanOrEqual(3)
      expect(JSON.stringify(['REQ', 'nsr1234567', ...r.filters]).length).toBeLessThanOrEqual(16 * 1024)
      for (const f of r.filters) {
        expect(f['#p'].length).toBeGreaterThan(0)
        expect(f['#p'].length).toBeLessThanOrEqual(100)
        expect(f.limit).toBe(0)
        for (const p of f['#p']) seen.add(`${f.kinds.join()}/${p}`)
      }
    }
    expect(seen.size).toBe(1001)
    expect(seen.has(`24133,24134/${pk(0)}`)).toBe(true)
  })

  test('a reconnect window adds since and a replay limit', () => {
    const [r] = planReqs([{ pubkey: pk(1), kinds: [24133] }], limits(), { since: 1000, limit: 50 })
    expect(r.filters[0]).toEqual({ kinds: [24133], '#p': [pk(1)], limit: 50, since: 1000 })
  })

  test('NIP-11 limitation is read, capped and defaulted', () => {
    expect(
      limitsFrom({ limitation: { max_subscriptions: 5, max_filters: 2, max_message_length: 10_000_000 } }, { maxKeysPerFilter: 64, maxMessageBytes: 524288 }),
    ).toEqual({
      maxSubscriptions: 5,
      maxFilters: 2,
      maxMessageBytes: 524288,
      maxKeysPerFilter: 64,
    })
    expect(limitsFrom(undefined, { maxKeysPerFilter: 64, maxMessageBytes: 524288 }).maxSubscriptions).toBe(10)
  })
})

describe('the subscription book', () => {
  let frames: unknown[][]
  let confirmed: string[]
  let probes: Array<{ target: string; id: string }>
  let auth: number
  let failed: string[]
  beforeEach(() => {
    vi.useFakeTimers()
    frames = []
    confirmed = []
    probes = []
    auth = 0
    failed = []
  })
  afterEach(() => void vi.useRealTimers())

  function book(o: Partial<ReqBookOptions> = {}) {
    let n = 0
    return createReqBook({
      limits: limits(),
      confirm: 'eose',
      probeIntervalMs: 100,
      mergeDelayMs: 1000,
      reqTimeoutMs: 10_000,
      send: (f) => frames.push(f),
      probe: (target) => {
        const id = `probe${n++}`
        probes.push({ target, id })
        return id
      },
      confirmed: (keys) => confirmed.push(...keys.map((k) => k.pubkey)),
      needAuth: () => auth++,
      fail: (reason) => failed.push(reason),
      log: { warn() {}, debug() {} },
      ...o,
    })
  }
  const reqs = () => frames.filter((f) => f[0] === 'REQ')
  const lastReq = () => reqs().at(-1)!
  const closes = () => frames.filter((f) => f[0] === 'CLOSE').map((f) => f[1])

  test('nothing is confirmed before EOSE; EOSE of a REQ opened after registration confirms', () => {
    const b = book()
    b.want(pk(0), [24133, 24134])
    b.connected({ limit: 0 })
    expect(b.isConfirmed(pk(0))).toBe(false)
    b.eose(lastReq()[1] as string)
    expect(b.isConfirmed(pk(0))).toBe(true)
    expect(b.live && b.healthy).toBe(true)
  })

  test('a new key gets its own REQ at once, then a merge make-before-break under a fresh id', () => {
    const b = book()
    b.want(pk(0), [24133, 24134])
    b.connected({ limit: 0 })
    const gen1 = lastReq()[1] as string
    b.eose(gen1)
    b.want(pk(1), [24133])
    const own = lastReq()
    expect(own[2]).toEqual({ kinds: [24133], '#p': [pk(1)], limit: 0 })
    expect(b.isConfirmed(pk(1))).toBe(false)
    expect(b.healthy).toBe(false)
    b.eose(own[1] as string)
    expect(confirmed).toEqual([pk(0), pk(1)])
    vi.advanceTimersByTime(1000) // the merge
    const gen2 = lastReq()
    expect(gen2[1]).not.toBe(gen1)
    expect(gen2[1]).not.toBe(own[1])
    expect((gen2.slice(2) as Array<{ '#p': string[] }>).flatMap((f) => f['#p']).sort()).toEqual([pk(0), pk(1)])
    expect(closes()).toEqual([]) // nothing closed before the new generation is acknowledged
    b.eose(gen2[1] as string)
    expect(closes().sort()).toEqual([gen1, own[1]].sort())
    expect(b.openReqs).toBe(1)
    expect(new Set(reqs().map((f) => f[1])).size).toBe(reqs().length) // ids never reused
  })

  test('without room for a REQ of its own, a key waits for a merge that covers it', () => {
    const b = book({ limits: limits({ maxSubscriptions: 2 }) })
    b.want(pk(0), [24133, 24134])
    b.connected({ limit: 0 })
    b.eose(lastReq()[1] as string)
    b.want(pk(1), [24133]) // 1 open + 1 own + 1 reserved for the merge > 2: merge now
    const gen2 = lastReq()
    expect(gen2.length).toBe(4) // two filters: the admin's kinds and the key's
    b.eose(gen2[1] as string)
    expect(b.isConfirmed(pk(1))).toBe(true)
    expect(b.openReqs).toBe(1)
  })

  test('probe mode: EOSE alone confirms nothing; a probe seen on another subscription neither; on its own it does', () => {
    const b = book({ confirm: 'probe' })
    b.want(pk(0), [24133, 24134])
    b.connected({ limit: 0 })
    const id = lastReq()[1] as string
    b.eose(id)
    expect(b.isConfirmed(pk(0))).toBe(false)
    expect(probes).toHaveLength(1)
    vi.advanceTimersByTime(250)
    expect(probes.length).toBe(3) // a fresh probe every interval until one comes back
    b.probeSeen('some-other-sub', probes[1].id)
    expect(b.isConfirmed(pk(0))).toBe(false)
    b.probeSeen(id, probes[1].id)
    expect(b.isConfirmed(pk(0))).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(probes.length).toBe(3) // probing stopped
  })

  test('a refusal narrows the limits and rebuilds under new ids; auth-required asks for AUTH first', () => {
    const b = book()
    for (let i = 0; i < 30; i++) b.want(pk(i), [24133])
    b.connected({ limit: 0 })
    const first = lastReq()
    b.closed(first[1] as string, 'error: too many filters')
    vi.advanceTimersByTime(500)
    const second = lastReq()
    expect(second[1]).not.toBe(first[1])
    b.closed(second[1] as string, 'auth-required: please authenticate')
    expect(auth).toBe(1)
    vi.advanceTimersByTime(5000)
    expect(lastReq()).toBe(second) // nothing until authenticated
    b.authed()
    const third = lastReq()
    expect(third[1]).not.toBe(second[1])
    b.eose(third[1] as string)
    expect(b.healthy).toBe(true)
  })

  test('an upstream refusing everything is given up on (the connection is dropped and retried later)', () => {
    const b = book()
    b.want(pk(0), [24133])
    b.connected({ limit: 0 })
    for (let i = 0; i < 10 && failed.length === 0; i++) {
      b.closed(lastReq()[1] as string, 'blocked: no')
      vi.advanceTimersByTime(10_000)
    }
    expect(failed).toHaveLength(1)
  })

  test('a REQ never acknowledged times out and is replaced; a disconnect unconfirms everything', () => {
    const b = book()
    b.want(pk(0), [24133])
    b.connected({ limit: 0 })
    const first = lastReq()[1]
    vi.advanceTimersByTime(10_000)
    expect(closes()).toContain(first)
    vi.advanceTimersByTime(1000)
    const second = lastReq()[1] as string
    expect(second).not.toBe(first)
    b.eose(second)
    expect(b.isConfirmed(pk(0))).toBe(true)
    b.disconnected()
    expect(b.isConfirmed(pk(0))).toBe(false)
    expect([...b.unconfirmed()]).toEqual([pk(0)])
    b.connected({ since: 100, limit: 500 })
    expect(lastReq()[2]).toMatchObject({ since: 100, limit: 500 })
  })
})

describe('the outbound queue', () => {
  const ev = (id: string, kind = 24133): NostrEvent => ({ id, pubkey: pk(0), created_at: 0, kind, tags: [], content: '', sig: '' })
  let t = 0
  const dropped: string[] = []
  const box = (o: { maxItems?: number; holdMs?: number } = {}) =>
    createOutbox({
      maxItems: o.maxItems ?? 100,
      maxBytes: 1 << 20,
      ttlMs: 30_000,
      holdMs: o.holdMs ?? 5000,
      okTimeoutMs: 30_000,
      dropped: (reason, item) => dropped.push(`${reason}:${item.event.id}`),
      now: () => t,
    })
  beforeEach(() => {
    t = 1000
    dropped.length = 0
  })

  test('held events wait for their keys and do not block the others; the hold is bounded', () => {
    const o = box()
    o.push(ev('a'), '{}', [pk(1), pk(2)])
    o.push(ev('b'), '{}', undefined)
    expect(o.take()?.event.id).toBe('b')
    expect(o.take()).toBeUndefined()
    o.confirmed([pk(1)])
    expect(o.take()).toBeUndefined()
    o.confirmed([pk(2)])
    expect(o.take()?.event.id).toBe('a')
    o.push(ev('c'), '{}', [pk(3)])
    expect(o.nextDeadline()).toBe(6000)
    t = 6000
    expect(o.releaseOverdue().map((i) => i.event.id)).toEqual(['c'])
    expect(o.take()?.event.id).toBe('c')
  })

  test('full: the oldest goes; ephemeral events expire; unacked ones come back after a disconnect', () => {
    const o = box({ maxItems: 2 })
    o.push(ev('a'), '{}', undefined)
    o.push(ev('b'), '{}', undefined)
    o.push(ev('c'), '{}', undefined)
    expect(dropped).toEqual(['full:a'])
    const b = o.take()!
    o.sent(b)
    o.requeueInflight() // a disconnect before its OK: it goes out again (same id: harmless)
    expect(o.take()?.event.id).toBe('b')
    t += 31_000
    expect(o.take()).toBeUndefined() // c expired
    expect(dropped).toContain('expired:c')
    const stored = box()
    stored.push(ev('d', 1), '{}', undefined)
    t += 3_600_000
    expect(stored.take()?.event.id).toBe('d') // a stored kind does not expire
  })
})

test('backoff: full jitter between the floor and a doubling cap, reset after a stable connection', () => {
  let now = 0
  let r = 1
  const b = createBackoff({ minMs: 500, maxMs: 30_000, stableMs: 60_000, random: () => r, now: () => now })
  expect([b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000])
  for (let i = 0; i < 10; i++) b.next()
  expect(b.next()).toBe(30_000)
  r = 0
  expect(b.next()).toBe(500)
  b.connected()
  now += 10_000
  b.disconnected()
  expect(b.attempts).toBeGreaterThan(0)
  b.connected()
  now += 60_000
  b.disconnected()
  expect(b.attempts).toBe(0)
})

describe('configuration', () => {
  test('--upstream (repeatable) beats NSECRELAY_UPSTREAMS beats bridge.upstreams; other bridge settings stay', async () => {
    const { loadConfig } = await import('../../src/config.ts')
    const { writeFileSync } = await import('node:fs')
    const { tempDir } = await import('../helpers/server.ts')
    const file = `${tempDir()}/c.json`
    writeFileSync(file, JSON.stringify({ bridge: { confirm: 'probe', upstreams: [{ url: 'wss://file.example', write: false }] } }))
    expect(loadConfig(['--config', file], {}).bridge.upstreams).toEqual([{ url: 'wss://file.example', read: true, write: false }])
    const fromEnv = loadConfig(['--config', file], { NSECRELAY_UPSTREAMS: 'wss://a.example, ws://b.example:7000' }).bridge
    expect(fromEnv.upstreams.map((u) => u.url)).toEqual(['wss://a.example', 'ws://b.example:7000'])
    expect(fromEnv.confirm).toBe('probe')
    const fromArgs = loadConfig(['--config', file, '--upstream', 'wss://c.example', '--upstream', 'wss://d.example'], {
      NSECRELAY_UPSTREAMS: 'wss://a.example',
    })
    expect(fromArgs.bridge.upstreams.map((u) => u.url)).toEqual(['wss://c.example', 'wss://d.example'])
    expect(loadConfig([], {}).bridge).toMatchObject({ upstreams: [], confirm: 'eose', confirmTimeoutMs: 5000, ephemeralTtlSeconds: 30, pingSeconds: 20 })
    expect(() => loadConfig(['--upstream', 'https://not-a-relay.example'], {})).toThrow(/ws:\/\/ or wss:\/\//)
  })
})
