// The nsecbunkerd importer against files made in nsecbunkerd's own formats.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decryptKey, encryptKey } from '../../plugin/bunker/nip49.ts'
import { createScryptPool } from '../../plugin/bunker/scrypt-pool.ts'
import { ImportError } from '../../src/import/errors.ts'
import {
  applyNsecbunkerd,
  formatNsecbunkerdSummary,
  type NsecbunkerdTarget,
  type PassphraseRequest,
  readNsecbunkerd,
  type TargetPermission,
  type TargetPolicy,
  type TargetToken,
  type TargetUser,
} from '../../src/import/nsecbunkerd/index.ts'
import { tempDir } from '../helpers/server.ts'
import { bunkerFixture, encryptNsec, newKey, PASSPHRASES } from './nsecbunkerd-fixtures.ts'

/** Stages until commit(), as the real target must; keys are re-stored as NIP-49 (cheap scrypt). */
function memoryBunker() {
  const staged = {
    keys: [] as Array<{ name: string; pubkey: string; ncryptsec: string }>,
    policies: new Map<number, TargetPolicy>(),
    users: new Map<number, TargetUser>(),
    permissions: [] as TargetPermission[],
    tokens: [] as TargetToken[],
    adminKey: null as Uint8Array | null,
  }
  let committed: typeof staged | null = null
  let nextPolicy = 100
  let nextUser = 200
  const target: NsecbunkerdTarget & { committed: () => typeof staged | null } = {
    async putKey(name, sk, passphrase, { pubkey }) {
      staged.keys.push({ name, pubkey, ncryptsec: await encryptKey(sk, passphrase, 4, scryptPool.derive) })
    },
    putPolicy(p) {
      staged.policies.set(++nextPolicy, p)
      return nextPolicy
    },
    putUser(u) {
      staged.users.set(++nextUser, u)
      return nextUser
    },
    putPermission: (p) => void staged.permissions.push(p),
    putToken: (t) => void staged.tokens.push(t),
    putAdminKey: (sk) => void (staged.adminKey = sk),
    async commit() {
      committed = structuredClone(staged)
    },
    committed: () => committed,
  }
  return target
}

const answer =
  (answers: Record<string, string[]> = {}, log: Array<[string, PassphraseRequest]> = []) =>
  async (name: string, req: PassphraseRequest) => {
    log.push([name, req])
    return answers[name]?.[req.attempt - 1] ?? PASSPHRASES[name]
  }

// NIP-49 as the bunker does it: scrypt on the bunker's own worker pool
const scryptPool = createScryptPool({ workers: 1, maxQueue: 64 })
afterAll(() => scryptPool.close())

describe('nsecbunkerd import', () => {
  it('brings every key, policy, rule, user, condition and token, with their state', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.write()
    const asked: Array<[string, PassphraseRequest]> = []
    const result = await readNsecbunkerd({ config: f.configPath, db: f.dbPath, passphraseFor: answer({}, asked) })
    expect(asked).toEqual([
      ['alice', { encrypted: true, attempt: 1, retry: undefined }],
      ['bob', { encrypted: true, attempt: 1, retry: undefined }],
      ['carol@example.com', { encrypted: false, attempt: 1, retry: undefined }],
    ])
    const target = memoryBunker()
    const summary = await applyNsecbunkerd(result, target)
    const got = target.committed()!

    // Keys: each opened, re-stored under its passphrase as NIP-49.
    expect(got.keys.map((k) => [k.name, k.pubkey])).toEqual([
      ['alice', f.keys.alice.pk],
      ['bob', f.keys.bob.pk],
      ['carol@example.com', f.keys.carol.pk],
    ])
    for (const [k, sk] of [
      [got.keys[0], f.keys.alice.sk],
      [got.keys[2], f.keys.carol.sk],
    ] as const) {
      expect(await decryptKey(k.ncryptsec, PASSPHRASES[k.name], scryptPool.derive)).toEqual(sk)
    }
    expect(got.adminKey).toEqual(f.keys.admin.sk)
    expect(result.admins).toEqual([f.keys.adminUser.pk])

    // Policies with their rules; the deleted one and the orphan rule stay behind.
    const { now, hour } = f
    expect([...got.policies.entries()]).toEqual([
      [
        101,
        {
          name: 'social',
          description: 'notes and reactions',
          createdAt: now - 9 * hour,
          updatedAt: now - 8 * hour,
          expiresAt: null,
          rules: [
            { method: 'sign_event', kind: 1, maxUsage: 100, used: 3 },
            { method: 'sign_event', kind: 7, maxUsage: null, used: 0 },
            { method: 'nip04_encrypt', kind: null, maxUsage: null, used: 0 },
          ],
        },
      ],
      [
        102,
        {
          name: 'short',
          description: null,
          createdAt: Date.UTC(2023, 5, 3, 13, 41, 35),
          updatedAt: Date.UTC(2023, 5, 3, 13, 41, 35),
          expiresAt: now + 24 * hour,
          rules: [{ method: 'connect', kind: null, maxUsage: null, used: 0 }],
        },
      ],
    ])

    // Key users, then their conditions under the users' new ids.
    expect([...got.users.entries()]).toEqual([
      [
        201,
        {
          keyName: 'alice',
          pubkey: f.clients.coracle.pk,
          description: 'Coracle',
          createdAt: now - 6 * hour,
          updatedAt: now - 6 * hour,
          lastUsedAt: now - hour,
          revokedAt: null,
        },
      ],
      [
        202,
        {
          keyName: 'alice',
          pubkey: f.clients.revoked.pk,
          description: null,
          createdAt: now - 6 * hour,
          updatedAt: now - 2 * hour,
          lastUsedAt: null,
          revokedAt: now - 2 * hour,
        },
      ],
      [
        203,
        {
          keyName: 'bob',
          pubkey: f.clients.amethyst.pk,
          description: 'Amethyst',
          createdAt: now - 4 * hour,
          updatedAt: now - 4 * hour,
          lastUsedAt: null,
          revokedAt: null,
        },
      ],
    ])
    expect(got.permissions).toEqual([
      { userId: 201, method: 'connect', kind: null, allowed: true },
      { userId: 201, method: 'sign_event', kind: 1, allowed: true },
      { userId: 201, method: 'sign_event', kind: null, allowed: true },
      { userId: 202, method: '*', kind: null, allowed: false },
      { userId: 203, method: 'encrypt', kind: null, allowed: true },
    ])

    // Tokens with their redemption state, policies and users under the new ids.
    const admin = f.keys.adminUser.pk
    expect(got.tokens).toEqual([
      {
        keyName: 'alice',
        clientName: 'Coracle',
        secret: f.tokens.redeemed,
        createdBy: admin,
        policyId: 101,
        createdAt: now - 7 * hour,
        updatedAt: now - 6 * hour,
        expiresAt: now + 17 * hour,
        redeemedAt: now - 6 * hour,
        redeemedBy: 201,
      },
      {
        keyName: 'bob',
        clientName: 'Amethyst',
        secret: f.tokens.open,
        createdBy: admin,
        policyId: 101,
        createdAt: now - hour,
        updatedAt: now - hour,
        expiresAt: null,
        redeemedAt: null,
        redeemedBy: null,
      },
      {
        keyName: 'alice',
        clientName: 'Old app',
        secret: f.tokens.expired,
        createdBy: admin,
        policyId: 102,
        createdAt: now - 50 * hour,
        updatedAt: now - 50 * hour,
        expiresAt: now - 2 * hour,
        redeemedAt: null,
        redeemedBy: null,
      },
    ])

    // What stayed behind, and why; nothing secret in the summary.
    expect(result.skipped.map((s) => `${s.table} ${s.rowId}: ${s.reason}`)).toEqual([
      'Policy 2: deleted upstream',
      'PolicyRule 6: belongs to no policy',
      'KeyUser 4: key "old" was deleted',
      'SigningCondition 6: belongs to no key user',
      'SigningCondition 7: neither allows nor denies',
      'Token 4: its policy 2 was deleted',
      'Token 5: deleted upstream',
      'Token 6: has no policy (upstream refuses to redeem it)',
      'Token 7: key "old" was deleted',
    ])
    expect(summary).toMatchObject({
      policies: 2,
      rules: 4,
      users: { total: 3, revoked: 1 },
      permissions: { allowed: 4, denied: 1 },
      tokens: { total: 3, redeemed: 1, expired: 1 },
      adminKey: 'imported',
      notImported: [
        { table: 'Log', rows: 3 },
        { table: 'Request', rows: 1 },
      ],
    })
    const text = formatNsecbunkerdSummary(summary)
    expect(text).toContain('carol@example.com npub1')
    expect(text).toContain('(was stored unencrypted upstream)')
    expect(text).toContain('tokens: 3 (1 redeemed, 1 expired unredeemed)')
    expect(text).toContain('skipped Token row 6: has no policy')
    for (const secret of [...Object.values(f.tokens), ...Object.values(PASSPHRASES), f.keys.alice.hex, f.keys.admin.hex, f.keys.alice.nsec]) {
      expect(text).not.toContain(secret)
      expect(JSON.stringify(summary)).not.toContain(secret)
    }
  })

  it('asks again after a wrong passphrase, saying why', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.write()
    const asked: Array<[string, PassphraseRequest]> = []
    const result = await readNsecbunkerd({ config: f.configPath, db: f.dbPath, passphraseFor: answer({ bob: ['nope', ''] }, asked) })
    expect(result.keys.map((k) => k.name)).toEqual(['alice', 'bob', 'carol@example.com'])
    expect(asked.filter(([n]) => n === 'bob').map(([, r]) => r)).toEqual([
      { encrypted: true, attempt: 1, retry: undefined },
      { encrypted: true, attempt: 2, retry: 'wrong passphrase, or the encrypted key is corrupt' },
      { encrypted: true, attempt: 3, retry: 'an empty passphrase cannot protect a key' },
    ])
  })

  it('a wrong passphrase imports nothing and names the key', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.write()
    const err = await readNsecbunkerd({ config: f.configPath, db: f.dbPath, passphraseFor: answer({ alice: ['a', 'b', 'c'] }) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ImportError)
    expect((err as ImportError).message).toBe(
      `${f.configPath}: nothing imported:\n  - key "alice": wrong passphrase, or the encrypted key is corrupt (3 attempts)`,
    )
  })

  it('corrupt files get clear errors before any passphrase is asked', async () => {
    const dir = tempDir('bunker-')
    const f = bunkerFixture(dir)
    f.write()
    const asked: Array<[string, PassphraseRequest]> = []
    const read = (over: { config?: string; db?: string } = {}) =>
      readNsecbunkerd({ config: over.config ?? f.configPath, db: over.db ?? f.dbPath, passphraseFor: answer({}, asked) }).then(
        () => 'imported',
        (e: unknown) => (e instanceof ImportError ? e.message : `not an ImportError: ${e}`),
      )
    const file = (name: string, text: string) => {
      const p = join(dir, name)
      writeFileSync(p, text)
      return p
    }

    const truncated = file('truncated.json', JSON.stringify(f.config).slice(0, 100))
    expect(await read({ config: truncated })).toMatch(new RegExp(`^${truncated}: not valid JSON`))
    const badKeys = file(
      'bad-keys.json',
      JSON.stringify({
        ...f.config,
        keys: { alice: { iv: 'abc', data: '00' }, bob: { ...encryptNsec(f.keys.bob.nsec, 'x'), data: 'zz' }, dave: {}, eve: { key: 'f'.repeat(64) } },
      }),
    )
    expect(await read({ config: badKeys })).toBe(
      `${badKeys}: invalid entries:\n` +
        '  - keys."alice".iv: not 16 bytes of hex (corrupt)\n' +
        '  - keys."bob".data: not whole AES blocks of hex (corrupt)\n' +
        '  - keys."dave": has neither iv/data nor key\n' +
        '  - keys."eve".key: not a valid private key (64 hex or nsec)',
    )
    expect(await read({ config: file('array.json', '[1]') })).toMatch(/not an nsecbunkerd configuration:\n {2}- \(top level\): /)
    const notDb = file('not.db', 'SQLite format 3? no, just text, long enough to be read as a header by the library')
    expect(await read({ db: notDb })).toMatch(new RegExp(`^${notDb}: not an SQLite database`))
    expect(await read({ db: join(dir, 'missing.db') })).toMatch(/missing\.db: cannot open/)
    expect(asked).toEqual([])
  })

  it('every reference must resolve: all dangling ones are listed at once, and nothing is imported', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.rows.Token.push({ id: 8, keyName: 'mallory', token: 'a'.repeat(64), clientName: 'm', createdBy: 'x', createdAt: f.now, updatedAt: f.now, policyId: 1 })
    f.rows.Token.push({
      id: 9,
      keyName: 'bob',
      token: 'b'.repeat(64),
      clientName: 'm',
      createdBy: 'x',
      createdAt: f.now,
      updatedAt: f.now,
      policyId: 1,
      keyUserId: 1,
    })
    f.rows.Token.push({ id: 10, keyName: 'bob', token: 'short', clientName: 'm', createdBy: 'x', createdAt: 'yesterday', updatedAt: f.now, policyId: 1 })
    f.rows.SigningCondition.push({ id: 9, method: 'connect', kind: 'one', allowed: true, keyUserId: 3 })
    f.rows.KeyUser.push({ id: 5, keyName: 'alice', userPubkey: 'NPUB', createdAt: f.now, updatedAt: f.now })
    f.rows.Key.push({ id: 3, keyName: 'bob', createdAt: f.now, updatedAt: f.now, pubkey: newKey().pk })
    f.write()
    // the foreign keys hold in nsecbunkerd; a broken file can still name rows that do not exist
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(f.dbPath)
    db.pragma('foreign_keys = OFF')
    db.prepare('INSERT INTO "SigningCondition" (id, method, allowed, keyUserId) VALUES (10, ?, 1, 99)').run('connect')
    db.prepare('INSERT INTO "PolicyRule" (id, method, policyId) VALUES (7, ?, 42)').run('connect')
    db.close()

    const asked: Array<[string, PassphraseRequest]> = []
    const err = (await readNsecbunkerd({ config: f.configPath, db: f.dbPath, passphraseFor: answer({}, asked) }).catch((e: unknown) => e)) as ImportError
    expect(err).toBeInstanceOf(ImportError)
    expect(err.message.split('\n')[0]).toBe(`${f.dbPath}: nothing imported:`)
    expect(err.problems).toEqual([
      'PolicyRule row 7: policyId: names no Policy row (42)',
      'KeyUser row 5: userPubkey: unreadable value (expected 64 lowercase hex characters): "NPUB"',
      'SigningCondition row 9: kind: unreadable value: "one"',
      'SigningCondition row 10: keyUserId: names no KeyUser row (99)',
      'Token row 8: key "mallory" is not in the configuration (no key material to import)',
      'Token row 9: keyUserId: names a user of key "alice", not of "bob"',
      'Token row 10: token: unreadable value (expected 16-128 characters of [A-Za-z0-9_-])',
      'Token row 10: createdAt: unreadable value: "yesterday"',
    ])
    expect(asked).toEqual([])

    // Fixed, the Key table's pubkey for bob still disagrees with the key: checked after opening.
    const g = bunkerFixture(tempDir('bunker-'))
    g.rows.Key.push({ id: 3, keyName: 'bob', createdAt: g.now, updatedAt: g.now, pubkey: newKey().pk })
    g.write()
    const mismatch = (await readNsecbunkerd({ config: g.configPath, db: g.dbPath, passphraseFor: answer() }).catch((e: unknown) => e)) as ImportError
    expect(mismatch.problems).toEqual([`Key row 3: pubkey of "bob" is ${g.rows.Key[2].pubkey}, but its key in ${g.configPath} is ${g.keys.bob.pk}`])
  })

  it('apply writes nothing when the target fails half way (no commit)', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.write()
    const result = await readNsecbunkerd({ config: f.configPath, db: f.dbPath, passphraseFor: answer() })
    const target = memoryBunker()
    target.putToken = () => {
      throw new Error('disk full')
    }
    await expect(applyNsecbunkerd(result, target)).rejects.toThrow('disk full')
    expect(target.committed()).toBeNull()
  })

  it('without a database: the configuration keys and admins only; a target may keep its own admin key', async () => {
    const f = bunkerFixture(tempDir('bunker-'))
    f.write()
    const result = await readNsecbunkerd({ config: f.configPath, passphraseFor: answer() })
    expect(result.keys.map((k) => k.pubkey)).toEqual([f.keys.alice.pk, f.keys.bob.pk, f.keys.carol.pk])
    expect([result.policies, result.users, result.permissions, result.tokens, result.skipped]).toEqual([[], [], [], [], []])
    const target = memoryBunker()
    delete target.putAdminKey
    const summary = await applyNsecbunkerd(result, target)
    expect(summary.adminKey).toBe('kept ours')
    expect(formatNsecbunkerdSummary(summary)).toContain('(no database given: keys and admins only)')
  })
})
