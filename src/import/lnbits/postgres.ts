// LNbits on PostgreSQL: the extension's tables live in schema `nostrrelay` of LNbits' database.
// Everything is read in one REPEATABLE READ READ ONLY transaction, so all streams see one snapshot
// while LNbits keeps running; rows come through server-side cursors, `batchSize` per round trip.
import pg from 'pg'
import { ImportError, messageOf } from '../errors.ts'
import type { AccountRow, RelayRow } from './rows.ts'
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_TAG_ROWS, type EventCols, type KeyedTag, type LnbitsSource, type SourceOptions, withTags } from './source.ts'
import { LNBITS_COLUMNS } from './sqlite.ts'

export interface PostgresOptions extends SourceOptions {
  /** Default `nostrrelay`, the schema LNbits gives the extension. */
  schema?: string
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return 'the PostgreSQL URL'
  }
}

export async function openLnbitsPostgres(url: string, opts: PostgresOptions = {}): Promise<LnbitsSource> {
  const label = redactUrl(url)
  const schema = opts.schema ?? 'nostrrelay'
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new ImportError(`${label}: schema name ${JSON.stringify(schema)} is not a plain identifier`)
  const batch = opts.batchSize ?? DEFAULT_BATCH_SIZE
  const maxTagRows = opts.maxTagRows ?? DEFAULT_MAX_TAG_ROWS
  const client = new pg.Client({ connectionString: url })
  // a dropped connection is reported by the query that needed it; this keeps it from crashing us
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    await checkSchema(client, label, schema)
  } catch (e) {
    await client.end().catch(() => {})
    if (e instanceof ImportError) throw e
    throw new ImportError(`${label}: cannot read (${messageOf(e)})`)
  }

  const t = (table: string) => `${schema}.${table}`
  let cursors = 0
  const query = async <T>(table: string, sql: string, params: unknown[] = []): Promise<T[]> => {
    try {
      return (await client.query(sql, params)).rows as T[]
    } catch (e) {
      throw new ImportError(`${label}: reading ${t(table)} failed (${messageOf(e)})`)
    }
  }
  async function* cursor<T>(table: string, sql: string, params: unknown[]): AsyncGenerator<T> {
    const name = `nsecrelay_import_${++cursors}`
    await query(table, `DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params)
    try {
      for (;;) {
        const rows = await query<T>(table, `FETCH ${batch} FROM ${name}`)
        yield* rows
        if (rows.length < batch) return
      }
    } finally {
      await client.query(`CLOSE ${name}`).catch(() => {})
    }
  }
  const kindClause = (kind?: number) => (kind === undefined ? '' : ' AND e.kind = $2')
  const params = (relayId: string, kind?: number) => (kind === undefined ? [relayId] : [relayId, kind])
  const notDeleted = 'e.deleted IS NOT TRUE'

  return {
    label,
    relays: () => query<RelayRow>('relays', `SELECT id, user_id, name, description, pubkey, contact, active, meta FROM ${t('relays')} ORDER BY id COLLATE "C"`),
    accounts: (relayId) =>
      cursor<AccountRow>(
        'accounts',
        `SELECT pubkey, sats, storage, paid_to_join, allowed, blocked FROM ${t('accounts')} WHERE relay_id = $1 ORDER BY pubkey COLLATE "C"`,
        [relayId],
      ),
    events(relayId, { kind } = {}) {
      const events = cursor<EventCols>(
        'events',
        `SELECT id, pubkey, created_at, kind, content, sig, publisher FROM ${t('events')} e
         WHERE e.relay_id = $1 AND ${notDeleted}${kindClause(kind)} ORDER BY e.created_at, e.id COLLATE "C"`,
        params(relayId, kind),
      )
      const tags = cursor<KeyedTag>(
        'event_tags',
        `SELECT e.created_at, e.id AS event_id, tg.name, tg.value, tg.extra
         FROM ${t('event_tags')} tg JOIN ${t('events')} e ON e.relay_id = tg.relay_id AND e.id = tg.event_id
         WHERE e.relay_id = $1 AND ${notDeleted}${kindClause(kind)} ORDER BY e.created_at, e.id COLLATE "C", tg.ctid`,
        params(relayId, kind),
      )
      return withTags(events, tags, maxTagRows)
    },
    softDeleted: async (relayId) =>
      Number((await query<{ n: string }>('events', `SELECT count(*) AS n FROM ${t('events')} e WHERE e.relay_id = $1 AND e.deleted IS TRUE`, [relayId]))[0].n),
    orphanEvents: async () =>
      (
        await query<{ relay_id: string; n: string }>(
          'events',
          `SELECT relay_id, count(*) AS n FROM ${t('events')} WHERE relay_id NOT IN (SELECT id FROM ${t('relays')}) GROUP BY relay_id ORDER BY relay_id COLLATE "C"`,
        )
      ).map((r) => ({ relayId: r.relay_id, events: Number(r.n) })),
    async close() {
      await client.query('ROLLBACK').catch(() => {})
      await client.end().catch(() => {})
    },
  }
}

async function checkSchema(client: pg.Client, label: string, schema: string): Promise<void> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1',
    [schema],
  )
  const have = new Map<string, Set<string>>()
  for (const r of rows) have.set(r.table_name, (have.get(r.table_name) ?? new Set()).add(r.column_name))
  const problems: string[] = []
  for (const [table, columns] of Object.entries(LNBITS_COLUMNS)) {
    const cols = have.get(table)
    if (!cols) problems.push(`no table ${schema}.${table}`)
    else {
      const missing = columns.filter((c) => !cols.has(c))
      if (missing.length > 0) problems.push(`table ${schema}.${table} lacks ${missing.join(', ')}`)
    }
  }
  if (problems.length > 0) throw new ImportError(`${label}: not an LNbits nostrrelay database`, problems)
}
