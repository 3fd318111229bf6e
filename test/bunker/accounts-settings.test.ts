// bunker.accounts settings, each on a server of its own: off by default, rate limits per address and
// for everybody, a provider key of its own with the first connect left to an admin, and refusing to
// start without a vault secret.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { BunkerSigner, createAccount, fetchBunkerProviders, parseBunkerInput } from 'nostr-tools/nip46'
import { generateSecretKey } from 'nostr-tools/pure'
import { now, withTimeout } from '../helpers/clients.ts'
import { aclResponder, bunkerSignerAdmin, fastPool, STEP_MS, startBunkerServer, type BunkerServer } from '../helpers/bunker.ts'
import { askCreate, DOMAINS, getVia, routeNip05, startAccountsServer } from '../helpers/accounts.ts'
import { startServerProcess, tempDir } from '../helpers/server.ts'

async function withServer(b: BunkerServer, run: (pool: Awaited<ReturnType<typeof fastPool>>) => Promise<void>): Promise<void> {
  const pool = await fastPool()
  try {
    await run(pool)
  } finally {
    pool.destroy()
    expect(await b.server.stop()).toBe(0)
  }
}

describe('bunker.accounts', () => {
  test('off by default: create_account is refused and creates nothing; no provider is announced', async () => {
    const b = await startBunkerServer()
    await withServer(b, async (pool) => {
      await expect(askCreate(b, pool, ['alice', 'example.com'])).rejects.toBe('restricted: this bunker does not create accounts')
      const admin = await bunkerSignerAdmin(b, pool)
      expect(await admin.call('get_keys')).toBe('[]')
      await admin.close()
      expect(await withTimeout(fetchBunkerProviders(pool, [b.server.url]), STEP_MS, 'fetchBunkerProviders')).toEqual([])
      const r = await getVia(b.server.url, 'https://example.com/.well-known/nostr.json?name=_')
      expect(JSON.parse(r.body)).toEqual({ names: {} })
    })
  })

  test('per-address limit: the third account from one address within the hour is refused', async () => {
    const b = await startAccountsServer({ perIpPerHour: 2, perHour: 0 })
    await withServer(b, async (pool) => {
      await askCreate(b, pool, ['one', DOMAINS[0]])
      await askCreate(b, pool, ['two', DOMAINS[0]])
      await expect(askCreate(b, pool, ['three', DOMAINS[0]])).rejects.toMatch(/^rate-limited: /)
      // a taken name is told as taken, limit or not
      await expect(askCreate(b, pool, ['one', DOMAINS[0]])).rejects.toMatch(/^duplicate: /)
    })
  })

  test('global limit and maxAccounts', async () => {
    const b = await startAccountsServer({ perIpPerHour: 0, perHour: 2 })
    await withServer(b, async (pool) => {
      await askCreate(b, pool, ['one', DOMAINS[0]])
      await askCreate(b, pool, ['two', DOMAINS[0]])
      await expect(askCreate(b, pool, ['three', DOMAINS[0]])).rejects.toMatch(/^rate-limited: /)
    })
    const c = await startAccountsServer({ perIpPerHour: 0, perHour: 0, maxAccounts: 1 })
    await withServer(c, async (pool) => {
      await askCreate(c, pool, ['one', DOMAINS[0]])
      await expect(askCreate(c, pool, ['two', DOMAINS[0]])).rejects.toBe('restricted: this provider takes no more accounts')
    })
  })

  test('a provider key of its own, and the first connect left to an admin', async () => {
    const b = await startAccountsServer({ provider: 'own', approveFirstConnect: true, name: 'Own provider', about: 'test' })
    await withServer(b, async (pool) => {
      routeNip05(b.server.url)
      const [found] = await withTimeout(fetchBunkerProviders(pool, [b.server.url]), STEP_MS, 'fetchBunkerProviders').then((l) =>
        l.filter((p) => p.domain === DOMAINS[0]),
      )
      expect(found.bunkerPointer.pubkey).not.toBe(b.bunker.pubkey) // not the admin identity
      expect(found.name).toBe('Own provider')
      // the admin key does not create accounts when the provider has a key of its own
      await expect(askCreate(b, pool, ['alice', DOMAINS[0]])).rejects.toMatch(/^restricted: accounts are created by /)

      const acl = aclResponder(b, pool, () => ['always', 'approved', { kind: '1' }])
      const asked = () => acl.asked.map((q) => q.method)
      try {
        const clientSk = generateSecretKey()
        const signer = await withTimeout(createAccount(found, { pool }, 'alice', DOMAINS[0], undefined, clientSk), STEP_MS, 'createAccount')
        expect(asked()).toEqual(['connect'])
        const ev = await withTimeout(signer.signEvent({ kind: 1, content: 'x', tags: [], created_at: now() }), STEP_MS, 'sign_event')
        expect(ev.pubkey).toBe(signer.bp.pubkey)
        expect(asked()).toEqual(['connect', 'sign_event'])
        await signer.close()
        const bp = await parseBunkerInput(`alice@${DOMAINS[0]}`)
        expect(bp?.pubkey).toBe(signer.bp.pubkey)
        const again = BunkerSigner.fromBunker(clientSk, bp!, { pool })
        await withTimeout(again.connect(), STEP_MS, 'connect')
        await again.close()
      } finally {
        acl.close()
      }
    })
  })

  test('enabled without a vault secret: the server refuses to start and says why', async () => {
    const dir = tempDir()
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ bunker: { scryptLogN: 10, accounts: { enabled: true, domains: DOMAINS } } }))
    await expect(startServerProcess({ args: ['--config', config] })).rejects.toThrow(/needs a vault secret/)
  })
})
