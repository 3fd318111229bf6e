// The LNbits importer against an ext_nostrrelay.sqlite3 made with the extension's schema.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ImportError } from '../../src/import/errors.ts'
import { applyLnbits, formatLnbitsSummary, formatRefusal, importLnbits, openLnbitsSqlite, readLnbits, type Refusal } from '../../src/import/lnbits/index.ts'
import { tempDir } from '../helpers/server.ts'
import { checkFirstImport, memoryLnbits } from './lnbits-check.ts'
import { lnbitsFixture, newKey, sign, writeSqlite } from './lnbits-fixtures.ts'

function fixtureFile() {
  const { fixture, expected, keys } = lnbitsFixture()
  const path = join(tempDir('lnbits-'), 'ext_nostrrelay.sqlite3')
  writeSqlite(path, fixture)
  return { path, fixture, expected, keys }
}

describe('LNbits import from SQLite', () => {
  it('recreates relays, accounts and proven events, and refuses each bad row with its reason', async () => {
    const { path, fixture, expected } = fixtureFile()
    const target = memoryLnbits()
    const seen: Refusal[] = []
    const summary = await importLnbits({ sqlite: path, target, onRefusal: (r) => seen.push(r) })
    checkFirstImport(target, summary, fixture, expected)
    expect(summary.source).toBe(path)
    expect(seen.length).toBe(summary.refusals.length + summary.refusedRelays.length)
    const text = formatLnbitsSummary(summary)
    expect(text).toContain('relay main ("relay main"):')
    expect(text).toMatch(
      /events: 11 imported; 1 repaired .*; 2 deleted by their author \(kind 5\); 1 soft-deleted in LNbits; 4 refused \(bad-id 1, bad-sig 1, malformed 2\)$/m,
    )
    expect(text).toContain('relay "broken" refused: meta is not valid JSON')
    expect(text).toContain('2 events of relay_id "gone", which names no relay: not imported')
    const badSig = formatRefusal(summary.refusals.find((r) => r.code === 'bad-sig')!)
    expect(badSig).toMatch(/^refused events row "[0-9a-f]{64}" of relay "main": bad-sig: /)
    expect(text).not.toContain(badSig)
    expect(formatLnbitsSummary(summary, { refusals: true })).toContain(badSig)
  })

  it('is idempotent: a second run writes nothing new and reports the events as already present', async () => {
    const { path } = fixtureFile()
    const target = memoryLnbits()
    const first = await importLnbits({ sqlite: path, target })
    const snapshot = structuredClone({ relays: target.relays, accounts: target.accounts, events: target.events })
    const second = await importLnbits({ sqlite: path, target })
    expect({ relays: target.relays, accounts: target.accounts, events: target.events }).toEqual(snapshot)
    const [a, b] = [first, second].map((s) => s.relays.find((r) => r.id === 'main')!.events)
    expect(b.imported).toBe(0)
    expect(b.alreadyPresent).toBe(a.imported)
    expect(b.refused).toBe(a.refused)
  })

  it('dry run: reads and verifies everything, writes nothing, and counts what it would import', async () => {
    const { path } = fixtureFile()
    const target = memoryLnbits()
    const real = await importLnbits({ sqlite: path, target })
    const dry = await importLnbits({ sqlite: path, target: null })
    expect(dry.dryRun).toBe(true)
    expect(dry.relays).toEqual(real.relays)
    expect(formatLnbitsSummary(dry)).toMatch(/dry run: nothing written[\s\S]*events: 11 would import/)
    const kept = await importLnbits({ sqlite: path, target: null, keepRefusals: 1 })
    expect([kept.refusals.length, kept.refusalsNotKept]).toEqual([1, real.refusals.length - 1])
    expect(formatLnbitsSummary(kept)).toContain(`(${real.refusals.length - 1} more refusals were reported as they happened; the summary keeps the first 1)`)
  })

  it('reports what the target refuses, per row, and goes on', async () => {
    const { path } = fixtureFile()
    const target = memoryLnbits()
    const save = target.saveEvent
    target.saveEvent = (relayId, e, meta) => (e.kind === 3 ? { ok: false, reason: 'blocked: too many tags' } : save(relayId, e, meta))
    const summary = await importLnbits({ sqlite: path, target })
    const refused = summary.refusals.filter((r) => r.code === 'target')
    expect(refused).toHaveLength(1)
    expect(refused[0].reason).toBe('blocked: too many tags')
    expect(summary.relays.find((r) => r.id === 'main')!.events.imported).toBe(10)
  })

  it('hands each event to the target as it is read, in created_at order (3000 events)', async () => {
    const key = newKey()
    const path = join(tempDir('lnbits-'), 'big.sqlite3')
    const n = 3000
    const events = Array.from({ length: n }, (_, i) => ({
      relay_id: 'big',
      deleted: false,
      publisher: key.pk,
      event: sign(key, { kind: 1, created_at: 1_700_000_000 + i, tags: [['t', String(i)]], content: `n${i}` }),
    }))
    const meta = '{}'
    writeSqlite(path, {
      relays: [{ user_id: 'u', id: 'big', name: 'big', description: null, pubkey: null, contact: null, active: true, meta }],
      events,
      accounts: [],
    })
    const source = openLnbitsSqlite(path)
    let pulled = 0
    const counting = (async function* () {
      for await (const rec of readLnbits(source)) {
        if (rec.type === 'event') pulled++
        yield rec
      }
    })()
    const target = memoryLnbits()
    let pulledAtFirstSave = -1
    const save = target.saveEvent
    target.saveEvent = (r, e, m) => {
      if (pulledAtFirstSave < 0) pulledAtFirstSave = pulled
      return save(r, e, m)
    }
    const summary = await applyLnbits(counting, target)
    await source.close()
    expect(pulledAtFirstSave).toBe(1)
    expect(summary.relays[0].events.imported).toBe(n)
    expect(target.events.get('big')!.map((e) => e.content)).toEqual(events.map((e) => e.event.content))
  })

  it('names the file and what is wrong with it', async () => {
    const dir = tempDir('lnbits-')
    const junk = join(dir, 'junk.sqlite3')
    writeFileSync(junk, 'this is not a database, just text that is long enough to be read as a header')
    expect(() => openLnbitsSqlite(junk)).toThrow(new RegExp(`^${junk}: not an SQLite database`))
    expect(() => openLnbitsSqlite(join(dir, 'missing.sqlite3'))).toThrow(ImportError)
    const other = join(dir, 'other.sqlite3')
    const db = new Database(other)
    db.exec('CREATE TABLE relays (id TEXT)')
    db.close()
    let err: ImportError | undefined
    try {
      openLnbitsSqlite(other)
    } catch (e) {
      err = e as ImportError
    }
    expect(err).toBeInstanceOf(ImportError)
    expect(err!.message).toContain(`${other}: not an LNbits nostrrelay database`)
    expect(err!.problems).toEqual([
      'table relays lacks user_id, name, description, pubkey, contact, active, meta',
      'no table events',
      'no table event_tags',
      'no table accounts',
    ])
  })
})
