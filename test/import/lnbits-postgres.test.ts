// The LNbits importer against a real PostgreSQL server holding the extension's schema. The server
// is a throwaway cluster (test/helpers/postgres.ts); where none can be started these tests are
// skipped and say why.
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ImportError } from '../../src/import/errors.ts'
import { importLnbits, openLnbitsPostgres } from '../../src/import/lnbits/index.ts'
import { startPostgres } from '../helpers/postgres.ts'
import { checkFirstImport, memoryLnbits } from './lnbits-check.ts'
import { lnbitsFixture, writePostgres } from './lnbits-fixtures.ts'

const started = await startPostgres()
if (!started.ok) console.warn(`skipping the PostgreSQL import tests: ${started.reason}`)
const server = started.ok ? started.server : undefined
afterAll(() => server?.stop())

describe.skipIf(!server)(`LNbits import from PostgreSQL${started.ok ? '' : ` (skipped: ${started.reason})`}`, () => {
  const url = server?.url ?? ''

  it('recreates relays, accounts and proven events across fetch batches, as from SQLite', async () => {
    const { fixture, expected } = lnbitsFixture()
    await writePostgres(url, fixture)
    // 3 rows per round trip: events and their 40-tag contact list span many batches
    for (const batchSize of [3, 1000]) {
      const target = memoryLnbits()
      const summary = await importLnbits({ postgres: url, target, batchSize })
      checkFirstImport(target, summary, fixture, expected)
      expect(summary.source).toBe(url)
    }
  })

  it('reads one snapshot while LNbits keeps writing, and is idempotent', async () => {
    const { fixture, expected } = lnbitsFixture()
    await writePostgres(url, fixture)
    const target = memoryLnbits()
    const writer = new pg.Client({ connectionString: url })
    await writer.connect()
    let wrote = false
    const save = target.saveEvent
    target.saveEvent = async (relayId, e, meta) => {
      // a row LNbits deletes mid-import is still read from the snapshot
      if (!wrote) {
        wrote = true
        await writer.query('DELETE FROM nostrrelay.event_tags')
      }
      return save(relayId, e, meta)
    }
    const summary = await importLnbits({ postgres: url, target, batchSize: 2 })
    await writer.end()
    checkFirstImport(target, summary, fixture, expected)
    await writePostgres(url, fixture)
    target.saveEvent = save
    const again = await importLnbits({ postgres: url, target })
    const main = again.relays.find((r) => r.id === 'main')!.events
    expect(main.imported).toBe(0)
    expect(main.alreadyPresent).toBe(expected.events.main.length)
  })

  it('a schema that is not the extension, or an unreachable server, is a clear error without the password', async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('DROP SCHEMA IF EXISTS empty CASCADE; CREATE SCHEMA empty')
    await client.end()
    await expect(openLnbitsPostgres(url, { schema: 'empty' })).rejects.toThrow(/not an LNbits nostrrelay database:\n {2}- no table empty\.relays/)
    const secret = 'hunter2-secret'
    const port = new URL(url).port
    const bad = `postgres://postgres:${secret}@127.0.0.1:${port}/no_such_db`
    const err = (await openLnbitsPostgres(bad).catch((e: unknown) => e)) as ImportError
    expect(err).toBeInstanceOf(ImportError)
    expect(err.message).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/no_such_db: cannot read \(.*no_such_db.*\)/)
    expect(err.message).not.toContain(secret)
  })
})
