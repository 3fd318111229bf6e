// The hosted relays' records, their accounts (LNbits': sats, bought storage, paid to join, allowed,
// blocked), banned events and blocked addresses, in one named database of the LMDB environment.
// Reads are synchronous (policy hooks read accounts per event); every write resolves once committed.
// Keyspace numbers are allocated in a write transaction, so an importer in another process and the
// server never hand out the same one.
import type { Database, RootDatabase } from 'lmdb'
import type { LnbitsAccount } from '../import/lnbits/read.ts'
import type { RelayRecord } from './settings.ts'

export type Account = LnbitsAccount

type Key = Array<string | number>

/** Past every hex pubkey, event id and address text: the end of one relay's range. */
const HIGH = '\uffff'

export interface Listed<T> {
  items: T[]
  /** Entries of that kind the relay holds in all. */
  total: number
}

export interface RelayRecords {
  all(): RelayRecord[]
  get(id: string): RelayRecord | undefined
  /** Stores a new relay under a fresh keyspace (the default relay, id "", keeps 0). Refuses an id in use. */
  create(rec: Omit<RelayRecord, 'ks'>): Promise<RelayRecord>
  put(rec: RelayRecord): Promise<void>
  /** The record and everything filed under its id (accounts, bans, blocked addresses). */
  remove(id: string): Promise<void>
  account(id: string, pubkey: string): Account | undefined
  putAccount(id: string, account: Account): Promise<void>
  removeAccount(id: string, pubkey: string): Promise<boolean>
  accounts(id: string, opts?: { offset?: number; limit?: number; where?: (a: Account) => boolean }): Listed<Account>
  isBanned(id: string, eventId: string): boolean
  ban(id: string, eventId: string, reason: string): Promise<void>
  unban(id: string, eventId: string): Promise<boolean>
  banned(id: string, opts?: { offset?: number; limit?: number }): Listed<{ id: string; reason: string }>
  isBlockedIp(id: string, ip: string): boolean
  blockIp(id: string, ip: string, reason: string): Promise<void>
  unblockIp(id: string, ip: string): Promise<boolean>
  blockedIps(id: string): Listed<{ ip: string; reason: string }>
}

const DEFAULT_PAGE = 1000

function page<T>(
  db: Database<unknown, Key>,
  kind: string,
  id: string,
  map: (key: Key, value: unknown) => T,
  opts: { offset?: number; limit?: number; where?: (v: T) => boolean } = {},
): Listed<T> {
  const offset = opts.offset ?? 0
  const limit = opts.limit ?? DEFAULT_PAGE
  const items: T[] = []
  let total = 0
  for (const { key, value } of db.getRange({ start: [kind, id], end: [kind, id, HIGH] })) {
    const item = map(key, value)
    if (opts.where && !opts.where(item)) continue
    if (total >= offset && items.length < limit) items.push(item)
    total++
  }
  return { items, total }
}

export function openRelayRecords(env: RootDatabase): RelayRecords {
  const db = env.openDB<unknown, Key>({ name: 'relays' })
  const removeRange = (start: Key, end: Key) => {
    for (const key of [...db.getKeys({ start, end })]) db.removeSync(key)
  }
  const drop = async (key: Key): Promise<boolean> => db.remove(key)

  return {
    all: () => [...db.getRange({ start: ['relay'], end: ['relay', HIGH] })].map(({ value }) => value as RelayRecord),
    get: (id) => db.get(['relay', id]) as RelayRecord | undefined,
    create: (rec) =>
      env.transaction(() => {
        if (db.doesExist(['relay', rec.id])) throw new Error(`duplicate: relay ${JSON.stringify(rec.id)} exists`)
        let ks = 0
        if (rec.id !== '') {
          ks = ((db.get(['seq']) as number | undefined) ?? 0) + 1
          db.putSync(['seq'], ks) // never reused: a deleted relay's keys may still be being removed
        }
        const full: RelayRecord = { ...rec, ks }
        db.putSync(['relay', rec.id], full)
        return full
      }),
    put: async (rec) => void (await db.put(['relay', rec.id], rec)),
    remove: (id) =>
      env.transaction(() => {
        db.removeSync(['relay', id])
        for (const kind of ['acct', 'ban', 'ip']) removeRange([kind, id], [kind, id, HIGH])
      }),
    account: (id, pubkey) => db.get(['acct', id, pubkey]) as Account | undefined,
    putAccount: async (id, account) => void (await db.put(['acct', id, account.pubkey], account)),
    removeAccount: (id, pubkey) => drop(['acct', id, pubkey]),
    accounts: (id, opts) => page(db, 'acct', id, (_k, v) => v as Account, opts),
    isBanned: (id, eventId) => db.doesExist(['ban', id, eventId]),
    ban: async (id, eventId, reason) => void (await db.put(['ban', id, eventId], reason)),
    unban: (id, eventId) => drop(['ban', id, eventId]),
    banned: (id, opts) => page(db, 'ban', id, (k, v) => ({ id: k[2] as string, reason: v as string }), opts),
    isBlockedIp: (id, ip) => db.doesExist(['ip', id, ip]),
    blockIp: async (id, ip, reason) => void (await db.put(['ip', id, ip], reason)),
    unblockIp: (id, ip) => drop(['ip', id, ip]),
    blockedIps: (id) => page(db, 'ip', id, (k, v) => ({ ip: k[2] as string, reason: v as string })),
  }
}
