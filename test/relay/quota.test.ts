// Storage quota per pubkey (issue 8, "a stranger can fill the disk"): `block` refuses with
// `blocked:`, `prune` deletes the author's oldest regular events in the same transaction.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { now, rawClient, signed, type RawClient } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'

async function withStorage(storage: object): Promise<ServerProcess> {
  const file = join(tempDir(), 'config.json')
  writeFileSync(file, JSON.stringify({ storage }))
  return startServerProcess({ args: ['--config', file] })
}

async function publish(c: RawClient, e: Event): Promise<[boolean, string]> {
  const start = c.frames.length
  c.send(['EVENT', e])
  const f = await c.next((f) => f[0] === 'OK' && f[1] === e.id, 5000, start)
  return [f[2] as boolean, f[3] as string]
}

async function stored(c: RawClient, author: string): Promise<string[]> {
  const start = c.frames.length
  const subId = `q${start}`
  c.send(['REQ', subId, { authors: [author] }])
  await c.next((f) => f[0] === 'EOSE' && f[1] === subId, 5000, start)
  c.send(['CLOSE', subId])
  return c.frames
    .slice(start)
    .filter((f) => f[0] === 'EVENT' && f[1] === subId)
    .map((f) => (f[2] as Event).id)
}

describe('quota: block', () => {
  let server: ServerProcess
  let c: RawClient
  beforeAll(async () => {
    server = await withStorage({ quotaEvents: 3, quotaBytes: 0, quotaAction: 'block' })
    c = await rawClient(server.url)
  })
  afterAll(async () => {
    c.close()
    expect(await server.stop()).toBe(0)
  })

  test('past the quota an event is refused with blocked:, and nothing of it is kept', async () => {
    const sk = generateSecretKey()
    const notes = [0, 1, 2].map((i) => signed({ created_at: now() - 10 + i }, sk))
    for (const e of notes) expect(await publish(c, e)).toEqual([true, ''])
    const extra = signed({}, sk)
    expect(await publish(c, extra)).toEqual([false, 'blocked: storage quota for this pubkey is full (3 events)'])
    expect((await stored(c, getPublicKey(sk))).sort()).toEqual(notes.map((e) => e.id).sort())
    // ephemeral events are not stored, so not counted; other authors have their own quota
    expect(await publish(c, signed({ kind: 20001 }, sk))).toEqual([true, ''])
    expect(await publish(c, signed({}))).toEqual([true, ''])
    // a deletion that frees as much as it takes is accepted: the author is never stuck
    const del = signed({ kind: 5, tags: [['e', notes[0].id]] }, sk)
    expect(await publish(c, del)).toEqual([true, ''])
    expect((await stored(c, getPublicKey(sk))).sort()).toEqual([notes[1].id, notes[2].id, del.id].sort())
  })
})

describe('quota: prune', () => {
  let server: ServerProcess
  let c: RawClient
  beforeAll(async () => {
    server = await withStorage({ quotaEvents: 0, quotaBytes: 2000, quotaAction: 'prune' })
    c = await rawClient(server.url)
  })
  afterAll(async () => {
    c.close()
    expect(await server.stop()).toBe(0)
  })

  test('the oldest regular events make room; replaceable ones stay; an event older than them all is refused', async () => {
    const sk = generateSecretKey()
    const profile = signed({ kind: 0, content: '{}', created_at: now() - 1000 }, sk)
    expect(await publish(c, profile)).toEqual([true, ''])
    // a few fit next to the profile; later ones push the oldest out
    const notes = Array.from({ length: 8 }, (_, i) => signed({ content: 'x'.repeat(60) + i, created_at: now() - 100 + i }, sk))
    for (const e of notes) expect(await publish(c, e)).toEqual([true, ''])
    const size = (e: Event) => Buffer.byteLength(JSON.stringify(e))
    let room = 2000 - size(profile)
    let fit = 0
    while (fit < notes.length && room >= size(notes[notes.length - 1 - fit])) room -= size(notes[notes.length - 1 - fit++])
    expect(fit).toBeGreaterThanOrEqual(2)
    const left = await stored(c, getPublicKey(sk))
    expect(left).toEqual([
      ...notes
        .slice(-fit)
        .reverse()
        .map((e) => e.id),
      profile.id,
    ])
    const old = signed({ content: 'x'.repeat(60), created_at: now() - 500 }, sk)
    expect(await publish(c, old)).toEqual([false, 'blocked: storage quota for this pubkey is full (2000 bytes)'])
    expect(await stored(c, getPublicKey(sk))).toEqual(left)
  })
})
