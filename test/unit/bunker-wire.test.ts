// The bunker's request-path bounds as pure logic: the replay memory (time-bounded, capped, fail
// closed), the per-client token bucket, and the nesting check in front of the rpc parser.
import { describe, expect, test } from 'vitest'
import { createRateLimit } from '../../plugin/bunker/rate-limit.ts'
import { createReplayMemory, requestKeyOf } from '../../plugin/bunker/replay.ts'
import { MAX_DEPTH, nestedDeeperThan, parseMessage } from '../../plugin/bunker/rpc.ts'

const id = (n: number) => n.toString(16).padStart(64, '0')

describe('replay memory', () => {
  test('remembers every id until its time has passed, however many came after; then forgets it', () => {
    const t0 = 1_000_000
    const m = createReplayMemory(1_000_000)
    const key = requestKeyOf('a'.repeat(64), 'b'.repeat(64), 'rpc-1')
    m.remember(id(0), key, false, t0 + 305)
    for (let i = 1; i <= 200_000; i++) m.remember(id(i), undefined, true, t0 + 305)
    expect(m.hasRoom(false, t0 + 300)).toBe(true)
    expect(m.hasEvent(id(0))).toBe(true)
    expect(m.hasRequest(key)).toBe(true)
    expect(m.size).toBe(200_001)
    m.sweep(t0 + 320) // past its bucket
    expect(m.hasEvent(id(0))).toBe(false)
    expect(m.hasRequest(key)).toBe(false)
    expect(m.size).toBe(0)
  })

  test('full: no room for new requests, and nothing is forgotten early; strangers get half', () => {
    const t0 = 5_000
    const m = createReplayMemory(10)
    for (let i = 0; i < 5; i++) m.remember(id(i), undefined, true, t0 + 100)
    expect(m.hasRoom(true, t0)).toBe(false) // strangers' half
    expect(m.hasRoom(false, t0)).toBe(true)
    for (let i = 5; i < 10; i++) m.remember(id(i), undefined, false, t0 + 50)
    expect(m.hasRoom(false, t0 + 49)).toBe(false)
    for (let i = 0; i < 10; i++) expect(m.hasEvent(id(i))).toBe(true)
    expect(m.hasRoom(false, t0 + 61)).toBe(true) // the known clients' ids expired
    expect(m.hasRoom(true, t0 + 61)).toBe(false)
    expect(m.hasEvent(id(0))).toBe(true)
    expect(m.hasRoom(true, t0 + 111)).toBe(true)
  })

  test('request keys tell the key, the client and the rpc id apart', () => {
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)]
    const keys = new Set([requestKeyOf(a, b, 'x'), requestKeyOf(b, a, 'x'), requestKeyOf(a, b, 'y'), requestKeyOf(a, a, 'x')])
    expect(keys.size).toBe(4)
  })
})

describe('rate limit', () => {
  test('a burst of perMinute, then one per 60/perMinute seconds; each client on its own', () => {
    const t0 = 1_000
    const r = createRateLimit(60, t0)
    for (let i = 0; i < 60; i++) expect(r.take('a', t0)).toBe(true)
    expect(r.take('a', t0)).toBe(false)
    expect(r.take('b', t0)).toBe(true)
    expect(r.take('a', t0 + 999)).toBe(false)
    expect(r.take('a', t0 + 1000)).toBe(true)
    expect(r.take('a', t0 + 1000)).toBe(false)
  })

  test('idle clients are dropped once their bucket has refilled; active ones keep their state', () => {
    const r = createRateLimit(10, 0)
    for (let i = 0; i < 1000; i++) r.take(`c${i}`, 0)
    for (let i = 0; i < 10; i++) r.take('busy', 59_000)
    expect(r.take('busy', 59_000)).toBe(false)
    expect(r.size).toBe(1001)
    expect(r.take('busy', 61_000)).toBe(false) // rotated, not forgotten: only 0.3 refilled
    expect(r.size).toBe(1001)
    r.take('late', 121_000)
    expect(r.size).toBe(2) // 'busy' (touched at 61 s) and 'late'
    r.take('later', 250_000)
    expect(r.size).toBe(1)
  })

  test('0 is no limit', () => {
    const r = createRateLimit(0, 0)
    for (let i = 0; i < 1000; i++) expect(r.take('a', 0)).toBe(true)
    expect(r.size).toBe(0)
  })
})

describe('rpc nesting', () => {
  test('depth is measured without recursion, at any depth', () => {
    let v: unknown = 1
    for (let i = 0; i < 100_000; i++) v = [v]
    expect(nestedDeeperThan(v, MAX_DEPTH)).toBe(true)
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false)
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true)
  })

  test('a deeply nested request is invalid, with its id, and parsing never throws', () => {
    const n = 50_000
    const text = `{"id":"x","method":"ping","params":[${'{"a":'.repeat(n)}1${'}'.repeat(n)}]}`
    expect(parseMessage(text)).toEqual({ type: 'invalid', id: 'x', reason: `nested more than ${MAX_DEPTH} levels deep` })
    expect(parseMessage(`{"id":"${'i'.repeat(129)}","method":[]}`)).toMatchObject({ type: 'invalid', id: undefined })
  })
})
