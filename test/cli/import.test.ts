// `nsecrelay import nsecbunkerd` end to end: files in nsecbunkerd's exact formats (its config JSON
// with AES-256-CBC keys, its Prisma SQLite schema), imported offline into a data directory, then
// served by a real nsecrelay: every field arrives and works (keys unlock with their passphrases,
// the open token connects, an imported user signs under its imported permissions, revoked ones
// are refused). Wrong passphrases and corrupt files stop the import and leave nothing behind.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nip19 } from 'nostr-tools'
import { BunkerSigner } from 'nostr-tools/nip46'
import { afterAll, describe, expect, test } from 'vitest'
import { readKeyFile } from '../../src/local-admin.ts'
import { fastPool, STEP_MS, userBunkerUri } from '../helpers/bunker.ts'
import { now, withTimeout } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'
import { bunkerFixture, PASSPHRASES } from '../import/nsecbunkerd-fixtures.ts'
import { cli } from './cli.ts'
import { parseBunkerInput } from 'nostr-tools/nip46'

const pool = await fastPool()
const servers: ServerProcess[] = []
afterAll(async () => {
  pool.destroy()
  for (const s of servers) await s.stop()
})

const dir = tempDir('nsecrelay-import-')
const relayConfig = join(dir, 'nsecrelay.json')
writeFileSync(relayConfig, JSON.stringify({ bunker: { scryptLogN: 10, aclTimeoutSeconds: 1 } }))
const RIGHT = `${PASSPHRASES.alice}\n${PASSPHRASES.bob}\n${PASSPHRASES['carol@example.com']}\n`

function fixture() {
  const f = bunkerFixture(tempDir('nsecbunkerd-'))
  f.write()
  return f
}

const importInto = (data: string, f: ReturnType<typeof fixture>, input: string, more: string[] = []) =>
  cli(['import', 'nsecbunkerd', '--config', f.configPath, '--db', f.dbPath, '--data', data, '--nsecrelay-config', relayConfig, ...more], { input })

async function json(args: string[], data: string, input?: string) {
  const r = await cli([...args, '--data', data, '--json'], { input })
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

describe('nsecrelay import nsecbunkerd', () => {
  const f = fixture()
  const data = join(dir, 'data')
  let server: ServerProcess

  test('imports keys, policies, users, conditions and tokens; prints what and what not', async () => {
    const r = await importInto(data, f, RIGHT)
    expect(r.code, r.stderr).toBe(0)
    for (const line of [
      'keys: 3',
      'policies: 2 with 4 rules',
      'key users: 3 (1 revoked); permissions: 4 allowed, 1 denied',
      'tokens: 3 (1 redeemed, 1 expired unredeemed)',
      'admin identity key: imported',
      'skipped Token row 5: deleted upstream',
      'keys are locked until unlocked: nsecrelay start, then nsecrelay key unlock <name>',
      `--admin ${nip19.npubEncode(f.keys.adminUser.pk)}`,
    ])
      expect(r.stdout).toContain(line)
    // the bunker's identity is nsecbunkerd's: LNbits and the admin UI keep addressing it
    expect(readKeyFile(join(data, 'bunker-admin.key'))).toEqual(f.keys.admin.sk)
    for (const secret of [...Object.values(PASSPHRASES), ...Object.values(f.tokens), f.keys.alice.nsec]) expect(r.stdout + r.stderr).not.toContain(secret)
  })

  test('a second import of the same keys stops before asking anything', async () => {
    const r = await importInto(data, f, '')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^nsecrelay: nothing imported: a key named "alice" exists here already/)
  })

  test('the relay serves it all: keys unlock, policies, users, permissions and tokens as they were', async () => {
    server = await startServerProcess({ data, args: ['--config', relayConfig], waitForBunker: true })
    servers.push(server)
    expect((await parseBunkerInput(server.bunkerUri!))!.pubkey).toBe(f.keys.admin.pk)
    expect(await json(['key', 'list'], data)).toEqual([{ name: 'alice' }, { name: 'bob' }, { name: 'carol@example.com' }])
    for (const name of ['alice', 'bob', 'carol@example.com']) {
      const r = await cli(['key', 'unlock', name, '--data', data], { input: `${PASSPHRASES[name]}\n` })
      expect(r.stdout, r.stderr).toBe(`${name} unlocked\n`)
    }
    const keys = await json(['key', 'list'], data)
    expect(keys.map((k: { npub: string }) => nip19.decode(k.npub).data)).toEqual([f.keys.alice.pk, f.keys.bob.pk, f.keys.carol.pk])

    const policies = await json(['policy', 'list'], data)
    expect(policies.map((p: { name: string; description: string | null; rules: unknown[] }) => [p.name, p.description, p.rules])).toEqual([
      [
        'social',
        'notes and reactions',
        [
          { method: 'sign_event', kind: 1, max_usage_count: 100, current_usage_count: 0 },
          { method: 'sign_event', kind: 7, max_usage_count: null, current_usage_count: 0 },
          { method: 'nip04_encrypt', kind: null, max_usage_count: null, current_usage_count: 0 },
        ],
      ],
      ['short', null, [{ method: 'connect', kind: null, max_usage_count: null, current_usage_count: 0 }]],
    ])
    expect(policies[1].expires_at).toBe(new Date(f.now + 24 * f.hour).toISOString())

    const iso = (ms: number) => new Date(ms).toISOString()
    const aliceUsers = await json(['user', 'list', 'alice'], data)
    expect(aliceUsers).toMatchObject([
      {
        pubkey: f.clients.coracle.pk,
        description: 'Coracle',
        createdAt: iso(f.now - 6 * f.hour),
        lastUsedAt: iso(f.now - f.hour),
        revokedAt: null,
        signingConditions: [
          { method: 'connect', kind: null, allowed: true },
          { method: 'sign_event', kind: 1, allowed: true },
          { method: 'sign_event', kind: null, allowed: true },
        ],
      },
      { pubkey: f.clients.revoked.pk, description: null, revokedAt: iso(f.now - 2 * f.hour), signingConditions: [{ method: '*', kind: null, allowed: false }] },
    ])
    // nsecbunkerd's "encrypt" is NIP-04's
    expect(await json(['user', 'list', 'bob'], data)).toMatchObject([
      { pubkey: f.clients.amethyst.pk, description: 'Amethyst', signingConditions: [{ method: 'nip04_encrypt', kind: null, allowed: true }] },
    ])

    const aliceTokens = await json(['token', 'list', 'alice'], data)
    expect(aliceTokens).toMatchObject([
      { client_name: 'Coracle', policy_name: 'social', state: 'redeemed', redeemed_by: 'Coracle', redeemed_at: iso(f.now - 6 * f.hour), uri: null },
      { client_name: 'Old app', policy_name: 'short', state: 'expired', expires_at: iso(f.now - 2 * f.hour) },
    ])
    expect(aliceTokens[0].token).toBe(nip19.npubEncode(f.keys.alice.pk)) // a redeemed token keeps no secret
    const [bobToken] = await json(['token', 'list', 'bob'], data)
    expect(bobToken).toMatchObject({ client_name: 'Amethyst', state: 'open', expires_at: null })
    expect(bobToken.token).toBe(`${nip19.npubEncode(f.keys.bob.pk)}#${f.tokens.open}`)
  })

  test('the open token connects and signs; an imported user signs under its imported permission; revoked ones are refused', async () => {
    const sign = (s: BunkerSigner, kind: number) => withTimeout(s.signEvent({ kind, content: 'imported', tags: [], created_at: now() }), STEP_MS, 'sign')
    const newcomer = BunkerSigner.fromBunker(f.clients.gone.sk, (await parseBunkerInput(userBunkerUri(f.keys.bob.pk, server.url, f.tokens.open)))!, { pool })
    await withTimeout(newcomer.connect(), STEP_MS, 'connect with the imported token')
    expect((await sign(newcomer, 1)).pubkey).toBe(f.keys.bob.pk)

    const coracle = BunkerSigner.fromBunker(f.clients.coracle.sk, (await parseBunkerInput(userBunkerUri(f.keys.alice.pk, server.url)))!, { pool })
    await withTimeout(coracle.connect(), STEP_MS, 'coracle connect')
    expect((await sign(coracle, 30023)).pubkey).toBe(f.keys.alice.pk) // sign_event of any kind was allowed

    const revoked = BunkerSigner.fromBunker(f.clients.revoked.sk, (await parseBunkerInput(userBunkerUri(f.keys.alice.pk, server.url)))!, { pool })
    await expect(withTimeout(revoked.connect(), STEP_MS, 'revoked connect')).rejects.toMatch(/revoked|denied/)
    for (const s of [newcomer, coracle, revoked]) await s.close()
  })

  test('refuses while the relay serves the data directory', async () => {
    const r = await importInto(data, fixture(), RIGHT)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/nsecrelay \(pid \d+\) is serving .*: stop it first/)
  })
})

describe('bad input imports nothing', () => {
  test('wrong passphrases: each asked three times, then one error naming the key; a later right import finds nothing left over', async () => {
    const f = fixture()
    const data = join(dir, 'wrong')
    const wrong = join(dir, 'wrong.pass')
    writeFileSync(wrong, 'not it\n')
    const r = await importInto(data, f, '', ['--passphrase-file', wrong])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('key "alice": wrong passphrase, or the encrypted key is corrupt (3 attempts)')
    expect(r.stderr).toContain('key "bob": wrong passphrase, or the encrypted key is corrupt (3 attempts)')
    expect(r.stderr.match(/key alice: wrong passphrase/g)).toHaveLength(2) // told before the 2nd and 3rd try
    const again = await importInto(data, f, RIGHT)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('keys: 3')
  })

  test('corrupt files: named, and nothing asked or written', async () => {
    const f = fixture()
    const data = join(dir, 'corrupt')
    writeFileSync(f.configPath, '{"keys": {"alice": {"iv": "zz", "data": "00"}}')
    const bad = await importInto(data, f, RIGHT)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^nsecrelay: .*nsecbunker\.json: not valid JSON/)
    writeFileSync(f.configPath, JSON.stringify({ keys: { alice: { iv: 'zz', data: '00' } } }))
    const corrupt = await importInto(data, f, RIGHT)
    expect(corrupt.stderr).toContain('keys."alice".iv: not 16 bytes of hex (corrupt)')
    const g = fixture()
    writeFileSync(g.dbPath, 'this is not SQLite')
    const db = await importInto(data, g, RIGHT)
    expect(db.code).toBe(1)
    expect(db.stderr).toMatch(/nsecbunker\.db/)
    // nothing came in: the right files import in full
    const ok = await importInto(data, fixture(), RIGHT)
    expect(ok.code, ok.stderr).toBe(0)
  })
})
