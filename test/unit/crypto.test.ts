// Our crypto against nostr-tools' reference implementations, both ways.
import { describe, expect, test } from 'vitest'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import * as nip49 from 'nostr-tools/nip49'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { checkEvent } from '../../relay/verify.ts'
import { createCipher } from '../../plugin/bunker/crypto.ts'
import { decryptKey, encryptKey } from '../../plugin/bunker/nip49.ts'
import { createScryptPool } from '../../plugin/bunker/scrypt-pool.ts'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'

const sk = generateSecretKey()
const pk = getPublicKey(sk)

describe('signatures', () => {
  test('publicKeyOf matches nostr-tools', () => {
    expect(publicKeyOf(sk)).toBe(pk)
  })

  test('events we sign verify with nostr-tools; events nostr-tools signs pass checkEvent', () => {
    const t = {
      kind: 1,
      created_at: 1_700_000_000,
      tags: [
        ['p', pk],
        ['t', 'ü"\\\n'],
      ],
      content: 'hé "quoted"\n\u2028 😀',
    }
    const ours = signEvent(t, sk, pk)
    expect(verifyEvent({ ...ours })).toBe(true)
    expect(checkEvent(ours)).toBe('ok')
    const theirs = finalizeEvent(t, sk)
    expect(checkEvent({ ...theirs })).toBe('ok')
  })

  test('tampering is caught and told apart', () => {
    const e = signEvent({ kind: 1, created_at: 1, tags: [], content: 'x' }, sk, pk)
    expect(checkEvent({ ...e, content: 'y' })).toBe('bad-id')
    const other = signEvent({ kind: 1, created_at: 1, tags: [], content: 'z' }, sk, pk)
    expect(checkEvent({ ...e, sig: other.sig })).toBe('bad-sig')
    const offCurve = signEvent({ kind: 1, created_at: 1, tags: [], content: 'x' }, sk, 'f'.repeat(64))
    expect(checkEvent(offCurve)).toBe('bad-sig')
  })
})

describe('encryption', () => {
  const peerSk = generateSecretKey()
  const peer = getPublicKey(peerSk)
  const cipher = createCipher()

  test('NIP-44 and NIP-04 interoperate with nostr-tools', () => {
    const c44 = cipher.encrypt('nip44', sk, pk, peer, 'hello')
    expect(nip44.decrypt(c44, nip44.getConversationKey(peerSk, pk))).toBe('hello')
    expect(cipher.decrypt('nip44', sk, pk, peer, nip44.encrypt('back', nip44.getConversationKey(peerSk, pk)))).toBe('back')
    const c04 = cipher.encrypt('nip04', sk, pk, peer, 'hello 04')
    expect(nip04.decrypt(peerSk, pk, c04)).toBe('hello 04')
    expect(cipher.decrypt('nip04', sk, pk, peer, nip04.encrypt(peerSk, pk, 'back 04'))).toBe('back 04')
  })

  test('NIP-49 ncryptsec interoperates with nostr-tools, and a wrong password fails', async () => {
    const pool = createScryptPool({ workers: 1, maxQueue: 4 })
    try {
      const ours = await encryptKey(sk, 'pässword', 8, pool.derive)
      expect(nip49.decrypt(ours, 'pässword')).toEqual(sk)
      expect(await decryptKey(nip49.encrypt(sk, 'pässword', 8), 'pässword', pool.derive)).toEqual(sk)
      await expect(decryptKey(ours, 'wrong', pool.derive)).rejects.toThrow()
    } finally {
      await pool.close()
    }
  })
})

describe('verifier pool', () => {
  test('inline when idle, on workers under load; every answer lands on its own event', async () => {
    const { createVerifier } = await import('../../relay/verify-pool.ts')
    const verifier = createVerifier(2)
    const good = Array.from({ length: 200 }, (_, i) => signEvent({ kind: 1, created_at: i, tags: [], content: `e${i}` }, sk, pk))
    const events = good.map((e, i) => (i % 3 === 1 ? { ...e, content: 'tampered' } : i % 3 === 2 ? { ...e, sig: good[(i + 1) % good.length].sig } : e))
    const first = verifier.check(events[0])
    expect(first).toBe('ok') // nothing in flight: checked inline, synchronously
    const second = verifier.check(events[3])
    expect(second).toBeInstanceOf(Promise) // same turn: sent to a worker
    expect(await second).toBe('ok')
    const results = await Promise.all(events.map((e) => verifier.check(e)))
    expect(results).toEqual(events.map((_, i) => (i % 3 === 0 ? 'ok' : i % 3 === 1 ? 'bad-id' : 'bad-sig')))
    await verifier.close()
  })

  test('batches held by a worker that exits are checked on the main thread', async () => {
    const { createVerifier } = await import('../../relay/verify-pool.ts')
    const verifier = createVerifier(1)
    await verifier.ready
    const events = Array.from({ length: 50 }, (_, i) => signEvent({ kind: 1, created_at: i, tags: [], content: `x${i}` }, sk, pk))
    verifier.check(events[0]) // inline: the rest of this turn becomes one batch for the worker
    const pending = events.slice(1).map((e) => verifier.check(e))
    await new Promise((r) => setImmediate(r)) // the batch is posted
    const closing = verifier.close() // the worker exits holding it
    expect(await Promise.all(pending)).toEqual(events.slice(1).map(() => 'ok'))
    await closing
  })
})
