// What a copy of the data directory gives away: the directory is 0700 and LMDB's files 0600; token
// secrets are stored as SHA-256 hashes, the secret itself only sealed (under a key derived from the
// admin key) while the token is unredeemed, so get_key_tokens can still hand it out as LNbits needs.
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { describe, expect, test } from 'vitest'
import { BunkerSigner } from 'nostr-tools/nip46'
import { generateSecretKey } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, npubToHex, startBunkerServer, STEP_MS } from '../helpers/bunker.ts'
import { tempDir } from '../helpers/server.ts'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

interface TokenView {
  id: number
  client_name: string
  token: string
  redeemed_at: string | null
}

describe('keys and tokens at rest', () => {
  test('data directory 0700, LMDB files 0600; token secrets hashed, shown while unredeemed, sealed on disk', async () => {
    const data = join(tempDir(), 'data') // created by the server
    const adminSk = generateSecretKey()
    const first = await startBunkerServer({ data, adminSk })
    const pool = await fastPool()
    let admin = await bunkerSignerAdmin(first, pool)
    const { npub } = JSON.parse(await admin.call('create_new_key', ['k', 'pw']))
    await admin.call('create_new_policy', [JSON.stringify({ name: 'sign', rules: [{ method: 'sign_event' }] })])
    await admin.call('create_new_token', ['k', 'redeemed-app', '1'])
    await admin.call('create_new_token', ['k', 'waiting-app', '1'])
    const tokens = async (): Promise<Record<string, TokenView>> =>
      Object.fromEntries(JSON.parse(await admin.call('get_key_tokens', ['k'])).map((t: TokenView) => [t.client_name, t]))
    const before = await tokens()
    // LNbits' way: create_new_token, then read `<npub>#<secret>` from get_key_tokens
    expect(before['redeemed-app'].token).toMatch(new RegExp(`^${npub}#[0-9a-f]{64}$`))
    expect(before['waiting-app'].token).toMatch(new RegExp(`^${npub}#[0-9a-f]{64}$`))
    const redeemedSecret = before['redeemed-app'].token.split('#')[1]
    const waitingSecret = before['waiting-app'].token.split('#')[1]

    const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [first.server.url], secret: redeemedSecret }, { pool })
    await withTimeout(signer.connect(), STEP_MS, 'connect')
    await signer.close()
    const after = await tokens()
    expect(after['redeemed-app'].redeemed_at).not.toBeNull()
    expect(after['redeemed-app'].token).toBe(npub) // the secret is gone once used
    expect(after['waiting-app'].token).toBe(before['waiting-app'].token)
    expect(JSON.parse(await admin.call('validate_token', [before['waiting-app'].token]))).toMatchObject({ valid: true, client_name: 'waiting-app' })
    expect(JSON.parse(await admin.call('validate_token', [redeemedSecret]))).toMatchObject({ valid: false, error: 'token already redeemed' })
    await admin.close()
    expect(await first.server.stop()).toBe(0)

    expect(statSync(data).mode & 0o777).toBe(0o700)
    for (const file of ['data.mdb', 'lock.mdb', 'bunker-admin.key']) expect(statSync(join(data, file)).mode & 0o777, file).toBe(0o600)

    // the database, read directly: hashes, a sealed secret for the waiting token, no plaintext
    const raw = readFileSync(join(data, 'data.mdb'))
    for (const secret of [redeemedSecret, waitingSecret]) {
      expect(raw.includes(Buffer.from(secret))).toBe(false)
      expect(raw.includes(Buffer.from(secret, 'hex'))).toBe(false)
    }
    const env = open({ path: data, readOnly: true })
    try {
      const records = [...env.openDB({ name: 'bunker' }).getRange({ start: ['token'], end: ['token\u0000'] })].map(
        ({ value }) => value as Record<string, unknown>,
      )
      expect(records).toHaveLength(2)
      const byClient = Object.fromEntries(records.map((r) => [r.clientName, r]))
      expect(byClient['redeemed-app']).toMatchObject({ secretHash: sha256(redeemedSecret), sealedSecret: null })
      expect(byClient['waiting-app']).toMatchObject({ secretHash: sha256(waitingSecret), sealedSecret: expect.any(String) })
      for (const r of records) {
        expect(r).not.toHaveProperty('secret')
        expect(JSON.stringify(r)).not.toContain(redeemedSecret)
        expect(JSON.stringify(r)).not.toContain(waitingSecret)
      }
    } finally {
      await env.close()
    }

    // after a restart the waiting token's secret is still shown, and it still opens the key
    const second = await startBunkerServer({ data, adminSk })
    admin = await bunkerSignerAdmin(second, pool)
    expect((await tokens())['waiting-app'].token).toBe(before['waiting-app'].token)
    expect(JSON.parse(await admin.call('unlock_key', ['k', 'pw']))).toEqual({ success: true })
    const late = BunkerSigner.fromBunker(generateSecretKey(), { pubkey: npubToHex(npub), relays: [second.server.url], secret: waitingSecret }, { pool })
    await withTimeout(late.connect(), STEP_MS, 'connect after restart')
    const ev = await withTimeout(late.signEvent({ kind: 1, content: 'after restart', tags: [], created_at: now() }), STEP_MS, 'sign_event')
    expect(ev.pubkey).toBe(npubToHex(npub))
    await late.close()
    await admin.close()
    pool.destroy()
    expect(await second.server.stop()).toBe(0)
  })
})
