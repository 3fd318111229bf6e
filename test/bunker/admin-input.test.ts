// Admin input at the edges: dates past what can be printed, secret keys outside the curve's range,
// ids that only Number() would read as ids. Each gets a validation message, and nothing stored by
// one admin's bad input turns another's listing into "internal error". revoke_token also ends the
// redeeming client's session.
import { describe, expect, test } from 'vitest'
import { nip19 } from 'nostr-tools'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { npubToHex, STEP_MS, type AdminClient, type BunkerServer, useBunkerServer } from '../helpers/bunker.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
useBunkerServer((f) => void ({ b, pool, admin } = f))

// secp256k1's group order n: secret keys are 1 .. n-1
const N = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

describe('admin input validation', () => {
  test('far-future expires_at is refused, and get_policies keeps answering', async () => {
    for (const expires_at of [1e15, 1e308, 'Infinity', '+275760-09-13T00:00:00.000Z', -1]) {
      await expect(admin.call('create_new_policy', [JSON.stringify({ name: 'far', expires_at, rules: [] })]), String(expires_at)).rejects.toMatch(
        /invalid policy: .*expires_at/s,
      )
    }
    expect(await admin.call('create_new_policy', [JSON.stringify({ name: 'dated', expires_at: '2999-01-01T00:00:00Z', rules: [] })])).toBe('["ok"]')
    const policies = JSON.parse(await admin.call('get_policies'))
    expect(policies.map((p: { name: string }) => p.name)).not.toContain('far')
    expect(policies.find((p: { name: string }) => p.name === 'dated').expires_at).toBe('2999-01-01T00:00:00.000Z')
  })

  test('durationInHours past year 9999 or not a plain number is refused, and get_key_tokens keeps answering', async () => {
    await admin.call('create_new_key', ['dur', 'pw'])
    await admin.call('create_new_policy', [JSON.stringify({ name: 'dur', rules: [] })])
    const pid = String(JSON.parse(await admin.call('get_policies')).find((p: { name: string }) => p.name === 'dur').id)
    for (const hours of ['Infinity', '1e308', '1e9', '0x10', '-1', '0', 'NaN'])
      await expect(admin.call('create_new_token', ['dur', 'app', pid, hours]), hours).rejects.toMatch(/durationInHours/)
    expect(await admin.call('create_new_token', ['dur', 'app', pid, '1.5'])).toBe('["ok"]')
    const tokens = JSON.parse(await admin.call('get_key_tokens', ['dur']))
    expect(tokens).toHaveLength(1)
    expect(tokens[0].time_until_expiration).toBeGreaterThan(5000)
  })

  test('create_new_key with a secret key of 0 or at or past the curve order: a validation message', async () => {
    const zero = '00'.repeat(32)
    for (const nsec of [zero, nip19.nsecEncode(hexBytes(zero)), N, nip19.nsecEncode(hexBytes(N)), 'ff'.repeat(32)])
      await expect(admin.call('create_new_key', ['out-of-range', 'pw', nsec]), nsec).rejects.toMatch(/not a valid secret key/)
    expect(JSON.parse(await admin.call('get_keys')).map((k: { name: string }) => k.name)).not.toContain('out-of-range')
  })

  test('ids are plain decimal numbers: "0x1", "1e0", " 1" are refused', async () => {
    await admin.call('create_new_key', ['ids', 'pw'])
    await admin.call('create_new_policy', [JSON.stringify({ name: 'ids', rules: [] })])
    const pid = JSON.parse(await admin.call('get_policies')).find((p: { name: string }) => p.name === 'ids').id as number
    for (const id of [`0x${pid.toString(16)}`, `${pid}e0`, ` ${pid}`, `${pid}.0`, `0${pid}`]) {
      await expect(admin.call('create_new_token', ['ids', 'app', id]), id).rejects.toMatch(/no policy/)
      await expect(admin.call('delete_policy', [id]), id).rejects.toMatch(/no policy/)
    }
    expect(JSON.parse(await admin.call('get_key_tokens', ['ids']))).toEqual([])
    expect(await admin.call('create_new_token', ['ids', 'app', String(pid)])).toBe('["ok"]')
  })
})

describe('revoke_token', () => {
  test('ends the session of the client that redeemed it', async () => {
    const { npub } = JSON.parse(await admin.call('create_new_key', ['revoked', 'pw']))
    await admin.call('create_new_policy', [JSON.stringify({ name: 'rv', rules: [{ method: 'sign_event' }] })])
    const pid = String(JSON.parse(await admin.call('get_policies')).find((p: { name: string }) => p.name === 'rv').id)
    await admin.call('create_new_token', ['revoked', 'app', pid])
    const [token] = JSON.parse(await admin.call('get_key_tokens', ['revoked']))
    const pointer = { pubkey: npubToHex(npub), relays: [b.server.url], secret: token.token.split('#')[1] }
    const clientSk = generateSecretKey()
    const signer = BunkerSigner.fromBunker(clientSk, pointer, { pool })
    try {
      await withTimeout(signer.connect(), STEP_MS, 'connect')
      const sign = () => withTimeout(signer.signEvent({ kind: 1, content: 'x', tags: [], created_at: now() }), STEP_MS, 'sign_event')
      expect((await sign()).pubkey).toBe(pointer.pubkey)
      expect(await admin.call('revoke_token', [String(token.id)])).toBe('["ok"]')
      await expect(sign()).rejects.toMatch(/revoked/)
      const users = JSON.parse(await admin.call('get_key_users', ['revoked']))
      expect(users).toHaveLength(1)
      expect(users[0].revokedAt).not.toBeNull()
      expect(users[0].signingConditions).toEqual([])
    } finally {
      await signer.close()
    }
    // the same client cannot come back with the revoked token
    const again = BunkerSigner.fromBunker(clientSk, pointer, { pool })
    await expect(withTimeout(again.connect(), STEP_MS, 'reconnect')).rejects.toMatch(/invalid token/)
    await again.close()
  })
})
