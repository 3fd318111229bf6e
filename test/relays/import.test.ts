// `nsecrelay import lnbits` as a function: an LNbits nostrrelay database (SQLite, and PostgreSQL where
// a server can be started) into a data directory, then the real server on that directory serving the
// imported relays at /nostrrelay/<id> with their settings, accounts and proven events.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { runLnbitsImport } from '../../src/import/lnbits/command.ts'
import { startPostgres } from '../helpers/postgres.ts'
import { tempDir } from '../helpers/server.ts'
import { lnbitsFixture, writePostgres, writeSqlite } from '../import/lnbits-fixtures.ts'
import { call, nip11, query, rawClient, startRelaysServer, upgrade } from './helpers.ts'

const ROOT = new URL('../..', import.meta.url).pathname

function io() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env: {} } }
}

function fixtureFile() {
  const f = lnbitsFixture()
  const path = join(tempDir('lnbits-'), 'ext_nostrrelay.sqlite3')
  writeSqlite(path, f.fixture)
  return { path, ...f }
}

describe('import lnbits', () => {
  test('imports into the data directory, idempotently; the server then serves the relays as LNbits did', async () => {
    const { path, expected, fixture } = fixtureFile()
    const data = tempDir()
    const first = io()
    expect(await runLnbitsImport(['--sqlite', path, '--data', data], first.io)).toBe(0)
    const summary = first.out.join('')
    expect(summary).toMatch(/^relay main \("relay main"\):$/m)
    expect(summary).toMatch(/events: 11 imported; 1 repaired .*4 refused \(bad-id 1, bad-sig 1, malformed 2\)$/m)
    expect(summary).toContain('relay "broken" refused: meta is not valid JSON')
    expect(first.err.join('')).toMatch(/^refused events row "[0-9a-f]{64}" of relay "main": bad-sig: /m)

    const again = io()
    expect(await runLnbitsImport(['--sqlite', path, '--data', data], again.io)).toBe(0)
    expect(again.out.join('')).toMatch(/events: 0 imported; 11 already present/)

    const s = await startRelaysServer({ data })
    try {
      const main = await rawClient(s.wsUrl('main'))
      const stored = (await query(main, [{ limit: 200 }])).ids
      expect(new Set(stored)).toEqual(new Set(expected.events.main.map((e) => e.id)))
      main.close()
      const doc = (await nip11(s.wsUrl('main'))).doc
      expect(doc).toMatchObject({ id: 'main', name: 'relay main', description: 'the main relay', contact: 'ops@example' })
      expect(doc.config).toMatchObject({
        limitPerFilter: 200,
        freeStorageValue: 512,
        freeStorageUnit: 'KB',
        fullStorageAction: 'block',
        domain: 'relay.example',
      })
      expect(doc.limitation).toMatchObject({ payment_required: true, auth_required: true })
      const accounts = (await call(s.httpUrl(''), s.adminSk, 'listaccounts', ['main'])) as Array<{ pubkey: string }>
      const want = fixture.accounts.filter((a) => a.relay_id === 'main' && a.pubkey !== 'nope').map((a) => a.pubkey)
      expect(accounts.map((a) => a.pubkey).sort()).toEqual(want.sort())
      expect(await upgrade(s.wsUrl('camel'))).toBe(403) // inactive in LNbits, inactive here
      const bare = await rawClient(s.wsUrl('bare'))
      expect(new Set((await query(bare, [{}])).ids)).toEqual(new Set(expected.events.bare.map((e) => e.id)))
      bare.close()
    } finally {
      expect(await s.server.stop()).toBe(0)
    }
  })

  test('--dry-run reads and verifies everything and writes nothing', async () => {
    const { path } = fixtureFile()
    const data = join(tempDir(), 'never')
    const run = io()
    expect(await runLnbitsImport(['--sqlite', path, '--data', data, '--dry-run'], run.io)).toBe(0)
    expect(run.out.join('')).toMatch(/\(dry run: nothing written\)/)
    expect(run.out.join('')).toMatch(/events: 11 would import/)
    expect(existsSync(data)).toBe(false)
  })

  test('bad arguments exit 2, an unreadable source 1', async () => {
    for (const argv of [[], ['--sqlite', 'a', '--postgres', 'b'], ['--nope']]) {
      const run = io()
      expect(await runLnbitsImport(argv, run.io)).toBe(2)
      expect(run.err.join('')).toMatch(/error/)
    }
    const run = io()
    expect(await runLnbitsImport(['--sqlite', join(tempDir(), 'missing.sqlite3'), '--dry-run'], run.io)).toBe(1)
    expect(run.err.join('')).toMatch(/^error: /)
  })

  test('the nsecrelay command runs it: `nsecrelay import lnbits` exits 0 with the summary, 2 on bad arguments', () => {
    const { path } = fixtureFile()
    const data = tempDir()
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'import', 'lnbits', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    const ran = cli(['--sqlite', path, '--data', data])
    expect(ran.status).toBe(0)
    expect(ran.stdout).toMatch(/events: 11 imported/)
    expect(cli(['--data', data]).status).toBe(2)
  })
})

const pg = await startPostgres()
afterAll(() => (pg.ok ? pg.server.stop() : undefined))

describe.skipIf(!pg.ok)(`import lnbits from PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.ok ? '' : pg.reason})`}`, () => {
  test('the same relays and events as from SQLite', async () => {
    if (!pg.ok) return
    const { fixture } = lnbitsFixture()
    await writePostgres(pg.server.url, fixture)
    const run = io()
    expect(await runLnbitsImport(['--postgres', pg.server.url, '--data', tempDir()], run.io)).toBe(0)
    expect(run.out.join('')).toMatch(/events: 11 imported; 1 repaired .*4 refused \(bad-id 1, bad-sig 1, malformed 2\)$/m)
    expect(run.out.join('')).toMatch(/^total: 3 relays, /m)
  })
})
