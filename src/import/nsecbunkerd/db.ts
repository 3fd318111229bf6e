// nsecbunkerd's SQLite database (prisma/schema.prisma, after all its migrations), read-only. The
// tables imported are small (one row per policy, rule, token, key user, permission), so they are
// read whole; Log and Request, which grow with use, are only counted.
import Database from 'better-sqlite3'
import { ImportError, messageOf } from '../errors.ts'

export type Row = Record<string, unknown>

/** Imported tables and the columns read from each. Key is only a cross-check of pubkeys. */
const TABLES = {
  Policy: ['id', 'name', 'createdAt', 'updatedAt', 'expiresAt', 'deletedAt', 'description'],
  PolicyRule: ['id', 'method', 'kind', 'maxUsageCount', 'currentUsageCount', 'policyId'],
  Token: ['id', 'keyName', 'token', 'clientName', 'createdBy', 'createdAt', 'updatedAt', 'deletedAt', 'expiresAt', 'redeemedAt', 'keyUserId', 'policyId'],
  KeyUser: ['id', 'keyName', 'userPubkey', 'createdAt', 'updatedAt', 'revokedAt', 'lastUsedAt', 'description'],
  SigningCondition: ['id', 'method', 'kind', 'content', 'allowed', 'keyUserId'],
} as const
const OPTIONAL = { Key: ['id', 'keyName', 'createdAt', 'deletedAt', 'pubkey'] } as const
/** Tables with no counterpart in nsecrelay: their rows are counted and reported, not imported. */
const COUNTED = ['Log', 'Request', 'User'] as const

export type BunkerRows = { [T in keyof typeof TABLES | keyof typeof OPTIONAL]: Row[] } & { notImported: Array<{ table: string; rows: number }> }

export function readBunkerDb(path: string): BunkerRows {
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch (e) {
    throw new ImportError(`${path}: cannot open (${messageOf(e)})`)
  }
  try {
    return readAll(db, path)
  } catch (e) {
    if (e instanceof ImportError) throw e
    throw new ImportError(`${path}: cannot read (${messageOf(e)})`)
  } finally {
    db.close()
  }
}

function readAll(db: Database.Database, path: string): BunkerRows {
  let tables: Set<string>
  try {
    tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name))
  } catch (e) {
    throw new ImportError(`${path}: not an SQLite database (${messageOf(e)})`)
  }
  const problems: string[] = []
  const columnsOf = (t: string) => new Set((db.prepare(`PRAGMA table_info("${t}")`).all() as Array<{ name: string }>).map((c) => c.name))
  const check = (t: string, cols: readonly string[]) => {
    const missing = cols.filter((c) => !columnsOf(t).has(c))
    if (missing.length > 0) problems.push(`table ${t} lacks ${missing.join(', ')}`)
  }
  for (const [t, cols] of Object.entries(TABLES)) {
    if (tables.has(t)) check(t, cols)
    else problems.push(`no table ${t}`)
  }
  for (const [t, cols] of Object.entries(OPTIONAL)) if (tables.has(t)) check(t, cols)
  if (problems.length > 0) throw new ImportError(`${path}: not an nsecbunkerd database (or one older than its migrations of 2023-12)`, problems)

  const read = (t: string, cols: readonly string[]): Row[] => {
    if (!tables.has(t)) return []
    try {
      return db.prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${t}" ORDER BY id`).all() as Row[]
    } catch (e) {
      throw new ImportError(`${path}: reading table ${t} failed (${messageOf(e)})`)
    }
  }
  const notImported = COUNTED.filter((t) => tables.has(t))
    .map((t) => ({ table: t, rows: (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n }))
    .filter((c) => c.rows > 0)
  return {
    Policy: read('Policy', TABLES.Policy),
    PolicyRule: read('PolicyRule', TABLES.PolicyRule),
    Token: read('Token', TABLES.Token),
    KeyUser: read('KeyUser', TABLES.KeyUser),
    SigningCondition: read('SigningCondition', TABLES.SigningCondition),
    Key: read('Key', OPTIONAL.Key),
    notImported,
  }
}
