// NIP-09, NIP-11, NIP-40, NIP-42, NIP-45 and NIP-70 against the real server.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { Relay } from 'nostr-tools/relay'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { now, rawClient, signed, type RawClient } from '../helpers/clients.ts'
import { useRelayServer, type ServerProcess } from '../helpers/server.ts'

let server: ServerProcess
useRelayServer((s) => void (server = s))

async function ids(c: RawClient, subId: string, filter: object): Promise<string[]> {
  const start = c.frames.length
  c.send(['REQ', subId, filter])
  await c.next((f) => f[0] === 'EOSE' && f[1] === subId, 5000, start)
  return c.frames
    .slice(start)
    .filter((f) => f[0] === 'EVENT' && f[1] === subId)
    .map((f) => (f[2] as Event).id)
}

async function ok(c: RawClient, e: Event): Promise<[boolean, string]> {
  const start = c.frames.length
  c.send(['EVENT', e])
  const f = await c.next((f) => f[0] === 'OK' && f[1] === e.id, 5000, start)
  return [f[2] as boolean, f[3] as string]
}

describe('NIP-09 deletion', () => {
  test('by e tag: only the author’s own events; a deleted id cannot come back', async () => {
    const sk = generateSecretKey()
    const mine = signed({}, sk)
    const theirs = signed()
    const c = await rawClient(server.url)
    await ok(c, mine)
    await ok(c, theirs)
    expect(
      await ok(
        c,
        signed(
          {
            kind: 5,
            tags: [
              ['e', mine.id],
              ['e', theirs.id],
            ],
          },
          sk,
        ),
      ),
    ).toEqual([true, ''])
    expect(await ids(c, 'd1', { ids: [mine.id, theirs.id] })).toEqual([theirs.id])
    const [accepted, reason] = await ok(c, mine)
    expect(accepted).toBe(false)
    expect(reason).toMatch(/^blocked:/)
    c.close()
  })

  test('by a tag: removes the addressable event up to the deletion time', async () => {
    const sk = generateSecretKey()
    const pk = getPublicKey(sk)
    const t = now() - 100
    const art = signed({ kind: 30023, created_at: t, tags: [['d', 'post']] }, sk)
    const c = await rawClient(server.url)
    await ok(c, art)
    await ok(c, signed({ kind: 5, created_at: t + 10, tags: [['a', `30023:${pk}:post`]] }, sk))
    expect(await ids(c, 'a1', { kinds: [30023], authors: [pk] })).toEqual([])
    expect((await ok(c, signed({ kind: 30023, created_at: t + 5, tags: [['d', 'post']] }, sk)))[1]).toMatch(/^blocked:/)
    const newer = signed({ kind: 30023, created_at: t + 20, tags: [['d', 'post']] }, sk)
    expect((await ok(c, newer))[0]).toBe(true)
    expect(await ids(c, 'a2', { kinds: [30023], authors: [pk] })).toEqual([newer.id])
    c.close()
  })
})

describe('NIP-11', () => {
  test('information document with CORS and real limits', async () => {
    const res = await fetch(server.url.replace('ws://', 'http://'), { headers: { Accept: 'application/nostr+json' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const doc = (await res.json()) as { supported_nips: number[]; limitation: Record<string, unknown> }
    expect(doc.supported_nips).toEqual(expect.arrayContaining([1, 9, 11, 40, 42, 45, 70]))
    expect(doc.limitation.max_message_length).toBe(512 * 1024)
    expect(doc.limitation.max_subscriptions).toBe(50)
  })

  test('software is the project URL and version its release, both from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { homepage: string; version: string }
    const res = await fetch(server.url.replace('ws://', 'http://'), { headers: { Accept: 'application/nostr+json' } })
    const doc = (await res.json()) as { software: string; version: string }
    expect(pkg.homepage).toMatch(/^https:\/\//)
    expect(doc.software).toBe(pkg.homepage)
    expect(doc.version).toBe(pkg.version)
  })
})

describe('NIP-40 expiration', () => {
  test('expired events are refused and stop being served once expired', async () => {
    const c = await rawClient(server.url)
    const past = signed({ tags: [['expiration', String(now() - 1)]] })
    expect((await ok(c, past))[1]).toMatch(/^invalid: .*expired/)
    const soon = signed({ tags: [['expiration', String(now() + 2)]] })
    expect((await ok(c, soon))[0]).toBe(true)
    expect(await ids(c, 'x1', { ids: [soon.id] })).toEqual([soon.id])
    await new Promise((r) => setTimeout(r, 3100))
    expect(await ids(c, 'x2', { ids: [soon.id] })).toEqual([])
    expect(await ids(c, 'x3', { authors: [soon.pubkey] })).toEqual([])
    c.close()
  })
})

describe('NIP-45 COUNT', () => {
  test('counts matching events', async () => {
    const sk = generateSecretKey()
    const c = await rawClient(server.url)
    for (let i = 0; i < 3; i++) await ok(c, signed({ kind: 1 }, sk))
    c.send(['COUNT', 'n', { authors: [getPublicKey(sk)] }])
    expect(await c.next((f) => f[0] === 'COUNT')).toEqual(['COUNT', 'n', { count: 3 }])
    c.close()
  })
})

describe('NIP-42 and NIP-70', () => {
  const authEvent = (challenge: string, sk: Uint8Array, relayUrl = server.url) =>
    finalizeEvent(
      {
        kind: 22242,
        created_at: now(),
        tags: [
          ['relay', relayUrl],
          ['challenge', challenge],
        ],
        content: '',
      },
      sk,
    )

  test('protected events need AUTH as their author; the challenge comes with the first refusal', async () => {
    const sk = generateSecretKey()
    const c = await rawClient(server.url)
    const prot = signed({ tags: [['-']] }, sk)
    expect(await ok(c, authEvent('none-yet', sk))).toEqual([false, expect.stringMatching(/^invalid: no AUTH challenge/)])
    expect((await ok(c, prot))[1]).toMatch(/^auth-required:/)
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string
    expect(await ok(c, authEvent('wrong', sk))).toEqual([false, expect.stringMatching(/^invalid: .*challenge/)])
    expect(await ok(c, authEvent(challenge, sk))).toEqual([true, ''])
    expect(await ok(c, prot)).toEqual([true, ''])
    c.close()
  })

  test('a connection authenticated as someone else gets restricted:, not auth-required:', async () => {
    const author = generateSecretKey()
    const other = generateSecretKey()
    const c = await rawClient(server.url)
    expect((await ok(c, signed({ tags: [['-']] }, author)))[1]).toMatch(/^auth-required:/)
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string
    expect(await ok(c, authEvent(challenge, other))).toEqual([true, ''])
    expect(await ok(c, signed({ tags: [['-']] }, author))).toEqual([false, expect.stringMatching(/^restricted:/)])
    expect(await ok(c, signed({ tags: [['-']] }, other))).toEqual([true, ''])
    c.close()
  })

  test('AUTH is also accepted as an EVENT of kind 22242 (LNbits style), and never stored', async () => {
    const sk = generateSecretKey()
    const c = await rawClient(server.url)
    await ok(c, signed({ tags: [['-']] }, sk))
    const challenge = (await c.next((f) => f[0] === 'AUTH'))[1] as string
    const auth = authEvent(challenge, sk)
    expect(await ok(c, auth)).toEqual([true, ''])
    expect((await ok(c, signed({ tags: [['-']] }, sk)))[0]).toBe(true)
    expect(await ids(c, 'z', { ids: [auth.id] })).toEqual([])
    c.close()
  })

  test('nostr-tools Relay authenticates with its own signer', async () => {
    const sk = generateSecretKey()
    const r = await Relay.connect(server.url)
    const prot = signed({ tags: [['-']] }, sk)
    await expect(r.publish(prot)).rejects.toThrow(/^auth-required:/)
    await r.auth(async (t) => finalizeEvent(t, sk))
    await expect(r.publish(prot)).resolves.toBe('')
    r.close()
  })
})
