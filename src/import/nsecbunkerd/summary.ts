// The nsecbunkerd import's summary (plain data, no secrets) and its human-readable form.
import { nip19 } from 'nostr-tools'
import { count } from '../report.ts'
import type { Skipped } from './records.ts'
import type { NsecbunkerdImport } from './read.ts'

export interface NsecbunkerdSummary {
  config: string
  db: string | null
  keys: Array<{ name: string; npub: string; wasEncrypted: boolean }>
  policies: number
  rules: number
  users: { total: number; revoked: number }
  permissions: { allowed: number; denied: number }
  tokens: { total: number; redeemed: number; expired: number }
  /** Admin npubs from the configuration: give them to nsecrelay as --admin. */
  admins: string[]
  adminKey: 'imported' | 'kept ours' | 'none upstream'
  skipped: Skipped[]
  notImported: Array<{ table: string; rows: number }>
}

export function summarise(r: NsecbunkerdImport, adminKeyImported: boolean, now = Date.now()): NsecbunkerdSummary {
  return {
    config: r.configPath,
    db: r.dbPath,
    keys: r.keys.map((k) => ({ name: k.name, npub: nip19.npubEncode(k.pubkey), wasEncrypted: k.wasEncrypted })),
    policies: r.policies.length,
    rules: r.policies.reduce((n, p) => n + p.rules.length, 0),
    users: { total: r.users.length, revoked: r.users.filter((u) => u.revokedAt !== null).length },
    permissions: { allowed: r.permissions.filter((p) => p.allowed).length, denied: r.permissions.filter((p) => !p.allowed).length },
    tokens: {
      total: r.tokens.length,
      redeemed: r.tokens.filter((t) => t.redeemedAt !== null).length,
      expired: r.tokens.filter((t) => t.redeemedAt === null && t.expiresAt !== null && t.expiresAt < now).length,
    },
    admins: r.admins.map((hex) => nip19.npubEncode(hex)),
    adminKey: r.adminKey === null ? 'none upstream' : adminKeyImported ? 'imported' : 'kept ours',
    skipped: r.skipped,
    notImported: r.notImported,
  }
}

export function formatNsecbunkerdSummary(s: NsecbunkerdSummary): string {
  const lines = [`nsecbunkerd import from ${s.config}${s.db ? ` and ${s.db}` : ' (no database given: keys and admins only)'}`]
  lines.push(`keys: ${s.keys.length}`)
  for (const k of s.keys) lines.push(`  ${k.name} ${k.npub}${k.wasEncrypted ? '' : ' (was stored unencrypted upstream)'}`)
  lines.push(`policies: ${s.policies} with ${count(s.rules, 'rule')}`)
  lines.push(`key users: ${s.users.total} (${s.users.revoked} revoked); permissions: ${s.permissions.allowed} allowed, ${s.permissions.denied} denied`)
  lines.push(`tokens: ${s.tokens.total} (${s.tokens.redeemed} redeemed, ${s.tokens.expired} expired unredeemed)`)
  lines.push(`admins: ${s.admins.length ? s.admins.join(', ') : 'none'}`)
  lines.push(`admin identity key: ${s.adminKey}`)
  for (const k of s.skipped) lines.push(`skipped ${k.table} row ${k.rowId}: ${k.reason}`)
  for (const t of s.notImported) lines.push(`not imported: ${count(t.rows, 'row')} of ${t.table} (no counterpart in nsecrelay)`)
  return lines.join('\n')
}
