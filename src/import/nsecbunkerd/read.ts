// The reading and verifying half of the nsecbunkerd import. All or nothing: the configuration and
// the database are read and every reference is checked first (so a broken file fails before anyone
// types a passphrase), then each key is opened with its passphrase and checked against the Key
// table. Any problem stops the import with one error that lists them all; nothing is returned to
// write from.
import { ImportError } from '../errors.ts'
import { readBunkerConfig } from './config.ts'
import { readBunkerDb } from './db.ts'
import { type PassphraseFor, unlockKeys } from './keys.ts'
import { buildRecords, type ImportedPermission, type ImportedPolicy, type ImportedToken, type ImportedUser, type Skipped } from './records.ts'

export interface ImportedKey {
  name: string
  pubkey: string
  secretKey: Uint8Array
  /** Re-stores the key (NIP-49); for a key upstream kept encrypted, the one that opened it. */
  passphrase: string
  /** false: upstream kept it in plaintext (create_account). */
  wasEncrypted: boolean
}

/** Everything to import, verified: plain data, references by upstream row id. Holds secrets. */
export interface NsecbunkerdImport {
  configPath: string
  dbPath: string | null
  keys: ImportedKey[]
  policies: ImportedPolicy[]
  users: ImportedUser[]
  permissions: ImportedPermission[]
  tokens: ImportedToken[]
  /** Admin pubkeys (hex) from the configuration. */
  admins: string[]
  /** The bunker's identity key, which LNbits and admin UIs address (plaintext upstream). */
  adminKey: Uint8Array | null
  /** Rows left behind on purpose, with the reason. */
  skipped: Skipped[]
  /** Tables with no counterpart here (request log, web users), with their row counts. */
  notImported: Array<{ table: string; rows: number }>
}

export interface ReadNsecbunkerdOptions {
  /** nsecbunker.json */
  config: string
  /** nsecbunker.db; without it only the configuration's keys and admins are imported. */
  db?: string
  passphraseFor: PassphraseFor
  /** Tries per key before a wrong passphrase is a problem (default 3). */
  maxAttempts?: number
}

export async function readNsecbunkerd(opts: ReadNsecbunkerdOptions): Promise<NsecbunkerdImport> {
  const config = readBunkerConfig(opts.config)
  const rows = opts.db === undefined ? undefined : readBunkerDb(opts.db)
  const problems: string[] = []
  const names = new Set(config.keys.map((k) => k.name))
  const records: ReturnType<typeof buildRecords> = rows
    ? buildRecords(rows, names, problems)
    : { policies: [], users: [], permissions: [], tokens: [], keyPubkeys: new Map(), deletedKeys: new Set(), skipped: [] }
  if (problems.length > 0) throw new ImportError(`${opts.db}: nothing imported`, problems)

  const entries = config.keys.filter((k) => !records.deletedKeys.has(k.name))
  for (const name of records.deletedKeys) if (names.has(name)) records.skipped.push({ table: 'Key', rowId: name, reason: 'deleted upstream' })
  const keys = await unlockKeys(entries, opts.passphraseFor, opts.maxAttempts ?? 3, problems)
  for (const k of keys) {
    const row = records.keyPubkeys.get(k.name)
    if (row && row.pubkey !== k.pubkey)
      problems.push(`Key row ${row.rowId}: pubkey of ${JSON.stringify(k.name)} is ${row.pubkey}, but its key in ${opts.config} is ${k.pubkey}`)
  }
  if (problems.length > 0) throw new ImportError(`${opts.config}: nothing imported`, problems)
  return {
    configPath: opts.config,
    dbPath: opts.db ?? null,
    keys: keys.map(({ name, pubkey, secretKey, passphrase, wasEncrypted }) => ({ name, pubkey, secretKey, passphrase, wasEncrypted })),
    policies: records.policies,
    users: records.users,
    permissions: records.permissions,
    tokens: records.tokens,
    admins: config.admins,
    adminKey: config.adminKey,
    skipped: records.skipped,
    notImported: rows?.notImported ?? [],
  }
}
