// nsecbunkerd's files as nsecbunkerd writes them: nsecbunker.json (saveCurrentConfig's shape; keys
// encrypted as encryptNsec does: AES-256-CBC, key = SHA-256 of the passphrase, over the nsec text)
// and nsecbunker.db (the SQLite schema its Prisma migrations end with; Prisma's DateTime as epoch
// milliseconds, Boolean as 0/1).
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { nip19 } from 'nostr-tools'
import { secp256k1 } from '../../native/secp256k1/index.ts'

export const PRISMA_SCHEMA = `
CREATE TABLE "KeyUser" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "keyName" TEXT NOT NULL,
    "userPubkey" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "description" TEXT,
    "revokedAt" DATETIME
);
CREATE UNIQUE INDEX "KeyUser_keyName_userPubkey_key" ON "KeyUser"("keyName", "userPubkey");
CREATE TABLE "SigningCondition" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "method" TEXT,
    "kind" TEXT,
    "content" TEXT,
    "keyUserKeyName" TEXT,
    "allowed" BOOLEAN,
    "keyUserId" INTEGER,
    CONSTRAINT "SigningCondition_keyUserId_fkey" FOREIGN KEY ("keyUserId") REFERENCES "KeyUser" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "Log" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "timestamp" DATETIME NOT NULL,
    "type" TEXT NOT NULL,
    "method" TEXT,
    "params" TEXT,
    "keyUserId" INTEGER,
    CONSTRAINT "Log_keyUserId_fkey" FOREIGN KEY ("keyUserId") REFERENCES "KeyUser" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "Policy" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME,
    "deletedAt" DATETIME,
    "description" TEXT
);
CREATE TABLE "PolicyRule" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "method" TEXT NOT NULL,
    "kind" TEXT,
    "maxUsageCount" INTEGER,
    "currentUsageCount" INTEGER,
    "policyId" INTEGER,
    CONSTRAINT "PolicyRule_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "Policy" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE TABLE "Token" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "keyName" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "clientName" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" DATETIME,
    "expiresAt" DATETIME,
    "redeemedAt" DATETIME,
    "keyUserId" INTEGER,
    "policyId" INTEGER,
    CONSTRAINT "Token_keyUserId_fkey" FOREIGN KEY ("keyUserId") REFERENCES "KeyUser" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Token_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "Policy" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Token_token_key" ON "Token"("token");
CREATE TABLE "Request" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "keyName" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "requestId" TEXT NOT NULL,
    "remotePubkey" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "params" TEXT,
    "allowed" BOOLEAN
);
CREATE TABLE "Key" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "keyName" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" DATETIME,
    "pubkey" TEXT NOT NULL
);
CREATE UNIQUE INDEX "Key_keyName_key" ON "Key"("keyName");
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "password" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" DATETIME,
    "pubkey" TEXT NOT NULL
);
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");
`

/** nsecbunkerd's encryptNsec. */
export function encryptNsec(nsec: string, passphrase: string): { iv: string; data: string } {
  const key = createHash('sha256').update(passphrase).digest()
  const iv = randomBytes(16)
  const c = createCipheriv('aes-256-cbc', key, iv)
  return { iv: iv.toString('hex'), data: Buffer.concat([c.update(nsec), c.final()]).toString('hex') }
}

export interface Key {
  sk: Uint8Array
  hex: string
  pk: string
  nsec: string
}

export function newKey(): Key {
  const sk = new Uint8Array(randomBytes(32))
  return { sk, hex: Buffer.from(sk).toString('hex'), pk: secp256k1.publicKey(sk), nsec: nip19.nsecEncode(sk) }
}

export const secretToken = (): string => randomBytes(32).toString('hex')

type Rows = Record<string, Array<Record<string, unknown>>>

export function writeDb(path: string, rows: Rows): void {
  const db = new Database(path)
  db.exec(PRISMA_SCHEMA)
  db.transaction(() => {
    for (const [table, list] of Object.entries(rows)) {
      for (const row of list) {
        const cols = Object.keys(row)
        const values = Object.values(row).map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))
        db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...values)
      }
    }
  })()
  db.close()
}

export const PASSPHRASES: Record<string, string> = { alice: 'correct horse battery', bob: 'bob’s ünïcode passphrase', 'carol@example.com': 'new for carol' }

/**
 * A bunker with two passphrase-protected keys, one create_account key kept in plaintext, a key
 * deleted upstream, and policies, rules, users, conditions and tokens in every state, including
 * the rows upstream itself ignores.
 */
export function bunkerFixture(dir: string) {
  const keys = { alice: newKey(), bob: newKey(), carol: newKey(), admin: newKey(), adminUser: newKey() }
  const clients = { coracle: newKey(), amethyst: newKey(), revoked: newKey(), gone: newKey() }
  const now = Date.now()
  const hour = 3600_000
  const config = {
    nostr: { relays: ['wss://relay.damus.io', 'wss://relay.nsecbunker.com'] },
    admin: { npubs: [nip19.npubEncode(keys.adminUser.pk)], adminRelays: ['wss://relay.nsecbunker.com'], key: keys.admin.hex, notifyAdminsOnBoot: true },
    database: 'sqlite://nsecbunker.db',
    logs: './nsecbunker.log',
    keys: {
      alice: encryptNsec(keys.alice.nsec, PASSPHRASES.alice),
      bob: encryptNsec(keys.bob.nsec, PASSPHRASES.bob),
      'carol@example.com': { key: keys.carol.hex },
    } as Record<string, unknown>,
    verbose: false,
    domains: { 'example.com': { nip05: '/tmp/nip05.json' } },
    version: '0.10.5',
  }
  const tokens = { redeemed: secretToken(), open: secretToken(), expired: secretToken(), other: secretToken() }
  const rows: Rows = {
    Key: [
      { id: 1, keyName: 'carol@example.com', createdAt: now - 10 * hour, updatedAt: now - 10 * hour, pubkey: keys.carol.pk },
      { id: 2, keyName: 'old', createdAt: now - 20 * hour, updatedAt: now - 5 * hour, deletedAt: now - 5 * hour, pubkey: newKey().pk },
    ],
    Policy: [
      { id: 1, name: 'social', createdAt: now - 9 * hour, updatedAt: now - 8 * hour, expiresAt: null, description: 'notes and reactions' },
      { id: 2, name: 'gone', createdAt: now - 9 * hour, updatedAt: now - 9 * hour, deletedAt: now - 7 * hour },
      // written by SQLite's CURRENT_TIMESTAMP default, not by Prisma
      { id: 3, name: 'short', createdAt: '2023-06-03 13:41:35', updatedAt: '2023-06-03 13:41:35', expiresAt: now + 24 * hour },
    ],
    PolicyRule: [
      { id: 1, method: 'sign_event', kind: '1', maxUsageCount: 100, currentUsageCount: 3, policyId: 1 },
      { id: 2, method: 'sign_event', kind: '7', maxUsageCount: null, currentUsageCount: 0, policyId: 1 },
      { id: 3, method: 'nip04_encrypt', kind: 'all', maxUsageCount: null, currentUsageCount: null, policyId: 1 },
      { id: 4, method: 'sign_event', kind: '1', policyId: 2 },
      { id: 5, method: 'connect', kind: null, policyId: 3 },
      { id: 6, method: 'sign_event', kind: '1', policyId: null },
    ],
    KeyUser: [
      {
        id: 1,
        keyName: 'alice',
        userPubkey: clients.coracle.pk,
        createdAt: now - 6 * hour,
        updatedAt: now - 6 * hour,
        lastUsedAt: now - hour,
        description: 'Coracle',
      },
      { id: 2, keyName: 'alice', userPubkey: clients.revoked.pk, createdAt: now - 6 * hour, updatedAt: now - 2 * hour, revokedAt: now - 2 * hour },
      { id: 3, keyName: 'bob', userPubkey: clients.amethyst.pk, createdAt: now - 4 * hour, updatedAt: now - 4 * hour, description: 'Amethyst' },
      { id: 4, keyName: 'old', userPubkey: clients.gone.pk, createdAt: now - 19 * hour, updatedAt: now - 19 * hour },
    ],
    SigningCondition: [
      { id: 1, method: 'connect', kind: null, allowed: true, keyUserId: 1 },
      { id: 2, method: 'sign_event', kind: '1', allowed: true, keyUserId: 1 },
      { id: 3, method: 'sign_event', kind: 'all', allowed: true, keyUserId: 1 },
      // rejectAllRequestsFromKey: a denial without a method
      { id: 4, method: null, kind: null, allowed: false, keyUserId: 2 },
      { id: 5, method: 'encrypt', kind: null, allowed: true, keyUserId: 3 },
      { id: 6, method: 'sign_event', kind: '1', allowed: true, keyUserId: null },
      { id: 7, method: 'decrypt', kind: null, allowed: null, keyUserId: 3 },
      { id: 8, method: 'connect', kind: null, allowed: true, keyUserId: 4 },
    ],
    Token: [
      {
        id: 1,
        keyName: 'alice',
        token: tokens.redeemed,
        clientName: 'Coracle',
        createdBy: keys.adminUser.pk,
        createdAt: now - 7 * hour,
        updatedAt: now - 6 * hour,
        expiresAt: now + 17 * hour,
        redeemedAt: now - 6 * hour,
        keyUserId: 1,
        policyId: 1,
      },
      {
        id: 2,
        keyName: 'bob',
        token: tokens.open,
        clientName: 'Amethyst',
        createdBy: keys.adminUser.pk,
        createdAt: now - hour,
        updatedAt: now - hour,
        expiresAt: null,
        policyId: 1,
      },
      {
        id: 3,
        keyName: 'alice',
        token: tokens.expired,
        clientName: 'Old app',
        createdBy: keys.adminUser.pk,
        createdAt: now - 50 * hour,
        updatedAt: now - 50 * hour,
        expiresAt: now - 2 * hour,
        policyId: 3,
      },
      { id: 4, keyName: 'alice', token: secretToken(), clientName: 'x', createdBy: keys.adminUser.pk, createdAt: now, updatedAt: now, policyId: 2 },
      {
        id: 5,
        keyName: 'alice',
        token: secretToken(),
        clientName: 'y',
        createdBy: keys.adminUser.pk,
        createdAt: now,
        updatedAt: now,
        deletedAt: now,
        policyId: 1,
      },
      { id: 6, keyName: 'bob', token: secretToken(), clientName: 'z', createdBy: keys.adminUser.pk, createdAt: now, updatedAt: now, policyId: null },
      { id: 7, keyName: 'old', token: tokens.other, clientName: 'w', createdBy: keys.adminUser.pk, createdAt: now, updatedAt: now, policyId: 1 },
    ],
    Log: [1, 2, 3].map((id) => ({ id, timestamp: now, type: 'request', method: 'sign_event', keyUserId: 1 })),
    Request: [{ id: 'r1', keyName: 'alice', createdAt: now, requestId: 'x', remotePubkey: clients.coracle.pk, method: 'connect' }],
  }
  const configPath = join(dir, 'nsecbunker.json')
  const dbPath = join(dir, 'nsecbunker.db')
  const write = () => {
    writeFileSync(configPath, JSON.stringify(config, null, 2))
    writeDb(dbPath, rows)
  }
  return { keys, clients, tokens, config, rows, configPath, dbPath, now, hour, write }
}
