// LNbits on SQLite: the extension's own file (ext_nostrrelay.sqlite3), which LNbits attaches as
// schema `nostrrelay`, so its tables carry no prefix inside the file. Read-only; rows stream with
// better-sqlite3's iterate(). The tag stream runs on a second connection because a connection with
// an open iterator runs nothing else. Stop LNbits (or copy the file) first: two connections do not
// share one snapshot, and rows written meanwhile may be seen by one stream and not the other.
import Database from 'better-sqlite3'
import { ImportError, messageOf } from '../errors.ts'
import type { AccountRow, RelayRow } from './rows.ts'
import { DEFAULT_MAX_TAG_ROWS, type EventCols, type KeyedTag, type LnbitsSource, type SourceOptions, withTags } from './source.ts'

/** The columns the importer reads, per table (LNbits' m001_initial). */
export const LNBITS_COLUMNS: Record<string, string[]> = {
  relays: ['user_id', 'id', 'name', 'description', 'pubkey', 'contact', 'active', 'meta'],
  events: ['relay_id', 'deleted', 'publisher', 'id', 'pubkey', 'created_at', 'kind', 'content', 'sig'],
  event_tags: ['relay_id', 'event_id', 'name', 'value', 'extra'],
  accounts: ['relay_id', 'pubkey', 'sats', 'storage', 'paid_to_join', 'allowed', 'blocked'],
}

const NOT_DELETED = 'coalesce(e.deleted, 0) = 0'

export function openLnbitsSqlite(path: string, opts: SourceOptions = {}): LnbitsSource {
  const maxTagRows = opts.maxTagRows ?? DEFAULT_MAX_TAG_ROWS
  const db = open(path)
  checkSchema(db, path)
  const tagsDb = open(path)
  const kindClause = (kind?: number) => (kind === undefined ? '' : ' AND e.kind = ?')
  const params = (relayId: string, kind?: number) => (kind === undefined ? [relayId] : [relayId, kind])

  return {
    label: path,
    relays: async () =>
      run(path, 'relays', () => db.prepare('SELECT id, user_id, name, description, pubkey, contact, active, meta FROM relays ORDER BY id').all() as RelayRow[]),
    accounts: (relayId) =>
      rows<AccountRow>(path, 'accounts', () =>
        db.prepare('SELECT pubkey, sats, storage, paid_to_join, allowed, blocked FROM accounts WHERE relay_id = ? ORDER BY pubkey').iterate(relayId),
      ),
    events(relayId, { kind } = {}) {
      const events = rows<EventCols>(path, 'events', () =>
        db
          .prepare(
            `SELECT id, pubkey, created_at, kind, content, sig, publisher FROM events e WHERE e.relay_id = ? AND ${NOT_DELETED}${kindClause(kind)} ORDER BY created_at, id`,
          )
          .iterate(...params(relayId, kind)),
      )
      const tags = rows<KeyedTag>(path, 'event_tags', () =>
        tagsDb
          .prepare(
            `SELECT e.created_at AS created_at, e.id AS event_id, t.name AS name, t.value AS value, t.extra AS extra
             FROM event_tags t JOIN events e ON e.relay_id = t.relay_id AND e.id = t.event_id
             WHERE e.relay_id = ? AND ${NOT_DELETED}${kindClause(kind)} ORDER BY e.created_at, e.id, t.rowid`,
          )
          .iterate(...params(relayId, kind)),
      )
      return withTags(events, tags, maxTagRows)
    },
    softDeleted: async (relayId) =>
      run(path, 'events', () => (db.prepare(`SELECT count(*) AS n FROM events e WHERE relay_id = ? AND NOT (${NOT_DELETED})`).get(relayId) as { n: number }).n),
    orphanEvents: async () =>
      run(path, 'events', () =>
        (
          db
            .prepare(
              'SELECT relay_id AS relayId, count(*) AS events FROM events WHERE relay_id NOT IN (SELECT id FROM relays) GROUP BY relay_id ORDER BY relay_id',
            )
            .all() as Array<{
            relayId: string
            events: number
          }>
        ).map((r) => ({ relayId: String(r.relayId), events: r.events })),
      ),
    async close() {
      db.close()
      tagsDb.close()
    },
  }
}

function open(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true })
  } catch (e) {
    throw new ImportError(`${path}: cannot open (${messageOf(e)})`)
  }
}

function checkSchema(db: Database.Database, path: string): void {
  let tables: Set<string>
  try {
    tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name))
  } catch (e) {
    db.close()
    throw new ImportError(`${path}: not an SQLite database (${messageOf(e)})`)
  }
  const problems: string[] = []
  for (const [table, columns] of Object.entries(LNBITS_COLUMNS)) {
    if (!tables.has(table)) {
      problems.push(`no table ${table}`)
      continue
    }
    const have = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name))
    const missing = columns.filter((c) => !have.has(c))
    if (missing.length > 0) problems.push(`table ${table} lacks ${missing.join(', ')}`)
  }
  if (problems.length > 0) {
    db.close()
    throw new ImportError(`${path}: not an LNbits nostrrelay database (ext_nostrrelay.sqlite3)`, problems)
  }
}

async function run<T>(path: string, table: string, read: () => T): Promise<T> {
  try {
    return read()
  } catch (e) {
    throw new ImportError(`${path}: reading ${table} failed (${messageOf(e)})`)
  }
}

/** An async view of a statement's iterator, whose driver errors name the file and table. */
async function* rows<T>(path: string, table: string, start: () => IterableIterator<unknown>): AsyncGenerator<T> {
  let it: IterableIterator<unknown>
  try {
    it = start()
  } catch (e) {
    throw new ImportError(`${path}: reading ${table} failed (${messageOf(e)})`)
  }
  try {
    for (;;) {
      let next: IteratorResult<unknown>
      try {
        next = it.next()
      } catch (e) {
        throw new ImportError(`${path}: reading ${table} failed (${messageOf(e)})`)
      }
      if (next.done) return
      yield next.value as T
    }
  } finally {
    it.return?.()
  }
}
