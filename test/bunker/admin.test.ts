// nsecbunkerd's admin RPC: result shapes, admin-only access, both schemes and both kinds, keys at
// rest, restart and the vault secret.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import NDK, { NDKNostrRpc, NDKPrivateKeySigner, type NDKRpcResponse } from '@nostr-dev-kit/ndk'
import createDebug from 'debug'
import { nip19 } from 'nostr-tools'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { withTimeout } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, startBunkerServer, STEP_MS, type AdminClient, type BunkerServer, useBunkerServer } from '../helpers/bunker.ts'
import { tempDir } from '../helpers/server.ts'

let b: BunkerServer
let pool: SimplePool
let admin: AdminClient
useBunkerServer((f) => void ({ b, pool, admin } = f))

/** The nsecbunker admin UI's way: NDK's NDKNostrRpc, kind 24134, NIP-04. */
async function ndkAdmin(server: BunkerServer, sk: Uint8Array) {
  const signer = new NDKPrivateKeySigner(sk)
  const ndk = new NDK({ explicitRelayUrls: [server.server.url], signer, enableOutboxModel: false })
  await withTimeout(ndk.connect(), STEP_MS, 'ndk connect')
  const rpc = new NDKNostrRpc(ndk, signer, createDebug('test:rpc'), [server.server.url])
  rpc.encryptionType = 'nip04'
  await withTimeout(rpc.subscribe({ kinds: [24134 as never], '#p': [getPublicKey(sk)] }), STEP_MS, 'ndk rpc subscribe')
  return {
    call: (method: string, params: string[] = []) =>
      withTimeout(
        new Promise<NDKRpcResponse>((resolve) => void rpc.sendRequest(server.bunker.pubkey, method, params, 24134 as never, resolve)),
        STEP_MS,
        `ndk ${method}`,
      ),
    close: () => {
      for (const relay of ndk.pool.relays.values()) relay.disconnect()
    },
  }
}

describe('admin RPC', () => {
  test('ping answers ok', async () => {
    expect(await admin.call('ping')).toBe('ok')
  })

  test('create_new_key generates a key, or imports the nsec given; names are unique', async () => {
    const generated = JSON.parse(await admin.call('create_new_key', ['gen', 'pw']))
    expect(generated.npub).toMatch(/^npub1/)
    const sk = generateSecretKey()
    const imported = JSON.parse(await admin.call('create_new_key', ['imp', 'pw', nip19.nsecEncode(sk)]))
    expect(imported.npub).toBe(nip19.npubEncode(getPublicKey(sk)))
    await expect(admin.call('create_new_key', ['imp', 'pw'])).rejects.toMatch(/already exists/)
    await expect(admin.call('create_new_key', ['bad', 'pw', 'nsec1garbage'])).rejects.toMatch(/not a valid secret key/)
    await expect(admin.call('create_new_key', ['nopass', ''])).rejects.toMatch(/passphrase/)
  })

  test('policies: rules without kind, use_count, get_policies shape', async () => {
    expect(
      await admin.call('create_new_policy', [
        JSON.stringify({ name: 'basic', rules: [{ method: 'sign_event', kind: 1, use_count: 5 }, { method: 'nip44_encrypt' }] }),
      ]),
    ).toBe('["ok"]')
    await expect(admin.call('create_new_policy', ['{"rules":[]}'])).rejects.toMatch(/invalid policy/)
    const policies = JSON.parse(await admin.call('get_policies'))
    const basic = policies.find((p: { name: string }) => p.name === 'basic')
    expect(basic).toMatchObject({
      id: expect.any(Number),
      name: 'basic',
      description: null,
      expires_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect(basic.rules).toEqual([
      { method: 'sign_event', kind: 1, max_usage_count: 5, current_usage_count: 0 },
      { method: 'nip44_encrypt', kind: null, max_usage_count: null, current_usage_count: 0 },
    ])
  })

  test('tokens: policyId as number or numeric string, get_key_tokens shape, revoke_token, validate_token', async () => {
    await admin.call('create_new_key', ['tok', 'pw'])
    await admin.call('create_new_policy', [JSON.stringify({ name: 'tokpol', rules: [{ method: 'sign_event' }] })])
    const policy = JSON.parse(await admin.call('get_policies')).find((p: { name: string }) => p.name === 'tokpol')
    const signer = BunkerSigner.fromBunker(b.adminSk, b.bunker, { pool })
    // policyId as a JSON number, as LNbits sends it
    expect(await withTimeout(signer.sendRequest('create_new_token', ['tok', 'app-a', policy.id as unknown as string, '24']), STEP_MS, 'token')).toBe('["ok"]')
    await signer.close()
    expect(await admin.call('create_new_token', ['tok', 'app-b', String(policy.id)])).toBe('["ok"]')
    await expect(admin.call('create_new_token', ['tok', 'app-c', '9999'])).rejects.toMatch(/no policy/)
    await expect(admin.call('create_new_token', ['nokey', 'app-c', String(policy.id)])).rejects.toMatch(/no key/)
    const tokens = JSON.parse(await admin.call('get_key_tokens', ['tok']))
    expect(tokens).toHaveLength(2)
    const a = tokens.find((t: { client_name: string }) => t.client_name === 'app-a')
    expect(a).toMatchObject({ key_name: 'tok', policy_id: policy.id, policy_name: 'tokpol', redeemed_at: null, redeemed_by: null })
    expect(a.token).toMatch(/^npub1[0-9a-z]+#[0-9a-f]{64}$/)
    expect(a.time_until_expiration).toBeGreaterThan(23 * 3600)
    expect(JSON.parse(await admin.call('validate_token', [a.token]))).toMatchObject({ valid: true, client_name: 'app-a' })
    const b2 = tokens.find((t: { client_name: string }) => t.client_name === 'app-b')
    expect(b2.expires_at).toBeNull()
    expect(await admin.call('revoke_token', [String(b2.id)])).toBe('["ok"]')
    expect(JSON.parse(await admin.call('get_key_tokens', ['tok']))).toHaveLength(1)
    expect(JSON.parse(await admin.call('validate_token', [b2.token]))).toMatchObject({ valid: false })
  })

  test('get_keys, get_key, delete_key', async () => {
    await admin.call('create_new_key', ['doomed', 'pw'])
    const keys = JSON.parse(await admin.call('get_keys'))
    expect(keys.find((k: { name: string }) => k.name === 'doomed')).toEqual({
      name: 'doomed',
      npub: expect.stringMatching(/^npub1/),
      userCount: 0,
      tokenCount: 0,
    })
    expect(JSON.parse(await admin.call('get_key', ['doomed']))).toMatchObject({ name: 'doomed', locked: false })
    expect(await admin.call('delete_key', ['doomed'])).toBe('["ok"]')
    await expect(admin.call('get_key', ['doomed'])).rejects.toMatch(/no key/)
  })

  test('unknown methods get an error reply', async () => {
    await expect(admin.call('frobnicate')).rejects.toMatch(/Unknown method frobnicate/)
    await expect(admin.call('toString')).rejects.toMatch(/Unknown method toString/)
  })

  test('a non-admin gets an error and changes nothing', async () => {
    const intruder = BunkerSigner.fromBunker(generateSecretKey(), b.bunker, { pool })
    await expect(withTimeout(intruder.sendRequest('create_new_key', ['intruder', 'pw']), STEP_MS, 'intruder')).rejects.toMatch(/not designated/)
    await expect(withTimeout(intruder.sendRequest('get_keys', []), STEP_MS, 'intruder')).rejects.toMatch(/not designated/)
    await intruder.close()
    const keys = JSON.parse(await admin.call('get_keys'))
    expect(keys.map((k: { name: string }) => k.name)).not.toContain('intruder')
  })

  test('the nsecbunker admin UI way: NDK, kind 24134, NIP-04, replies in kind and scheme', async () => {
    const ndk = await ndkAdmin(b, b.adminSk)
    expect((await ndk.call('ping')).result).toBe('ok')
    const created = await ndk.call('create_new_key', ['via-ndk', 'pw'])
    expect(JSON.parse(created.result).npub).toMatch(/^npub1/)
    const unknown = await ndk.call('nope')
    expect(unknown.result).toBe('error')
    expect(unknown.error).toMatch(/Unknown method/)
    ndk.close()
  })
})

describe('keys at rest and restarts', () => {
  test('keys are NIP-49 encrypted, locked after restart until unlock_key; the admin key file is 0600', async () => {
    const data = tempDir()
    const adminSk = generateSecretKey()
    const sk = generateSecretKey()
    const first = await startBunkerServer({ data, adminSk })
    const p1 = await fastPool()
    const a1 = await bunkerSignerAdmin(first, p1)
    await a1.call('create_new_key', ['rest', 'correct horse', nip19.nsecEncode(sk)])
    await a1.close()
    p1.destroy()
    expect(await first.server.stop()).toBe(0)

    const raw = readFileSync(join(data, 'data.mdb'))
    expect(raw.includes(Buffer.from(nip19.nsecEncode(sk)))).toBe(false)
    expect(raw.includes(Buffer.from(sk))).toBe(false)
    expect(raw.includes(Buffer.from('ncryptsec1'))).toBe(true)
    expect(statSync(join(data, 'bunker-admin.key')).mode & 0o777).toBe(0o600)

    const second = await startBunkerServer({ data, adminSk })
    expect(second.bunker.pubkey).toBe(first.bunker.pubkey) // the admin identity survives
    const p2 = await fastPool()
    const a2 = await bunkerSignerAdmin(second, p2)
    expect(JSON.parse(await a2.call('get_keys'))).toEqual([{ name: 'rest' }])
    expect(JSON.parse(await a2.call('unlock_key', ['rest', 'wrong']))).toEqual({ success: false, error: 'wrong passphrase' })
    expect(JSON.parse(await a2.call('unlock_key', ['rest', 'correct horse']))).toEqual({ success: true })
    // unlock registers synchronously, before the reply: a client may talk to the key at once
    const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: getPublicKey(sk), relays: [second.server.url], secret: null }, { pool: p2 })
    await expect(withTimeout(signer.sendRequest('ping', []), STEP_MS, 'ping')).rejects.toMatch(/not/) // heard, and refused: unknown client, no admin answer
    await signer.close()
    await a2.close()
    p2.destroy()
    await second.server.stop()
  })

  test('with a vault secret, keys come back unlocked at boot and the admin key is encrypted', async () => {
    const data = tempDir()
    const adminSk = generateSecretKey()
    const env = { NSECRELAY_VAULT_SECRET: 'a long vault secret' }
    const first = await startBunkerServer({ data, adminSk, env })
    const p1 = await fastPool()
    const a1 = await bunkerSignerAdmin(first, p1)
    await a1.call('create_new_key', ['vaulted', 'pw'])
    await a1.close()
    p1.destroy()
    await first.server.stop()
    expect(readFileSync(join(data, 'bunker-admin.key'), 'utf8')).toMatch(/^ncryptsec1/)

    const second = await startBunkerServer({ data, adminSk, env })
    const p2 = await fastPool()
    const a2 = await bunkerSignerAdmin(second, p2)
    expect(JSON.parse(await a2.call('get_keys'))).toEqual([{ name: 'vaulted', npub: expect.stringMatching(/^npub1/), userCount: 0, tokenCount: 0 }])
    await a2.close()
    p2.destroy()
    await second.server.stop()

    await expect(startBunkerServer({ data, adminSk, env: { NSECRELAY_VAULT_SECRET: 'another secret!' } })).rejects.toThrow(/exited/)
  })

  test('no secret reaches the logs', async () => {
    const s = await startBunkerServer({ env: { NSECRELAY_LOG_LEVEL: 'trace', NSECRELAY_VAULT_SECRET: 'vault-secret-xyz' } })
    const p = await fastPool()
    const a = await bunkerSignerAdmin(s, p)
    const sk = generateSecretKey()
    await a.call('create_new_key', ['logged', 'passphrase-xyz', nip19.nsecEncode(sk)])
    await a.call('create_new_policy', [JSON.stringify({ name: 'p', rules: [{ method: 'sign_event' }] })])
    await a.call('create_new_token', ['logged', 'c', '1'])
    const [token] = JSON.parse(await a.call('get_key_tokens', ['logged']))
    const signer = BunkerSigner.fromBunker(
      generateSecretKey(),
      { pubkey: getPublicKey(sk), relays: [s.server.url], secret: token.token.split('#')[1] },
      { pool: p },
    )
    await withTimeout(signer.connect(), STEP_MS, 'connect')
    await signer.close()
    await a.close()
    p.destroy()
    await s.server.stop()
    const logs = s.server.stderr.join('\n')
    expect(logs).toMatch(/REQUEST_IN/)
    expect(logs).toMatch(/RESPONSE_SENT/)
    for (const secret of ['passphrase-xyz', 'vault-secret-xyz', nip19.nsecEncode(sk), token.token.split('#')[1]]) expect(logs).not.toContain(secret)
  })
})
