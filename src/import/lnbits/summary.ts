// The LNbits import's summary (plain data) and its human-readable form.
import { count } from '../report.ts'
import type { ImportedRelay, Refusal, RefusalCode } from './read.ts'

export interface LnbitsRelaySummary {
  id: string
  name: string
  active: boolean
  warnings: string[]
  accounts: { imported: number; refused: number }
  events: {
    /** Written (or, in a dry run, that would be). */
    imported: number
    /** The target already held them (an earlier run). */
    alreadyPresent: number
    /** Imported after dropping tag rows that LNbits had inserted twice. */
    repaired: number
    /** Not imported: their author deleted them with a kind 5. */
    deletedByKind5: number
    /** Not imported: LNbits had marked them deleted. */
    softDeleted: number
    refused: number
    refusedByCode: Partial<Record<RefusalCode, number>>
  }
}

export interface LnbitsSummary {
  /** The file or the PostgreSQL URL (without password) read. */
  source: string
  dryRun: boolean
  relays: LnbitsRelaySummary[]
  /** Relays not imported at all, with the reason. */
  refusedRelays: Refusal[]
  /** Events whose relay_id names no relay: not imported. */
  orphanEvents: Array<{ relayId: string; events: number }>
  /** The first refused accounts and events (see ApplyOptions.keepRefusals). */
  refusals: Refusal[]
  refusalsNotKept: number
}

export const emptyRelaySummary = (r: ImportedRelay): LnbitsRelaySummary => ({
  id: r.id,
  name: r.info.name,
  active: r.info.active,
  warnings: r.warnings,
  accounts: { imported: 0, refused: 0 },
  events: { imported: 0, alreadyPresent: 0, repaired: 0, deletedByKind5: 0, softDeleted: 0, refused: 0, refusedByCode: {} },
})

export const formatRefusal = (r: Refusal): string => `refused ${r.table} row ${JSON.stringify(r.rowId)} of relay ${JSON.stringify(r.relayId)}: ${r.reason}`

/** `refusals`: also list the refusals the summary kept (when they were not printed as they came). */
export function formatLnbitsSummary(s: LnbitsSummary, opts: { refusals?: boolean } = {}): string {
  const verb = s.dryRun ? 'would import' : 'imported'
  const lines = [`LNbits nostrrelay import from ${s.source}${s.dryRun ? ' (dry run: nothing written)' : ''}`]
  for (const r of s.relays) {
    const e = r.events
    lines.push(`relay ${r.id} (${JSON.stringify(r.name)}${r.active ? '' : ', inactive'}):`)
    lines.push(`  accounts: ${r.accounts.imported} ${verb}${r.accounts.refused ? `, ${r.accounts.refused} refused` : ''}`)
    const notes = [
      e.alreadyPresent && `${e.alreadyPresent} already present`,
      e.repaired && `${e.repaired} repaired (duplicated tag rows)`,
      e.deletedByKind5 && `${e.deletedByKind5} deleted by their author (kind 5)`,
      e.softDeleted && `${e.softDeleted} soft-deleted in LNbits`,
      e.refused &&
        `${e.refused} refused (${Object.entries(e.refusedByCode)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')})`,
    ].filter(Boolean)
    lines.push(`  events: ${e.imported} ${verb}${notes.length ? `; ${notes.join('; ')}` : ''}`)
    for (const w of r.warnings) lines.push(`  warning: ${w}`)
  }
  for (const r of s.refusedRelays) lines.push(`relay ${JSON.stringify(r.relayId)} refused: ${r.reason}`)
  if (opts.refusals) for (const r of s.refusals) lines.push(formatRefusal(r))
  for (const o of s.orphanEvents) lines.push(`${count(o.events, 'event')} of relay_id ${JSON.stringify(o.relayId)}, which names no relay: not imported`)
  const total = s.relays.reduce((n, r) => n + r.events.imported, 0)
  const refused = s.relays.reduce((n, r) => n + r.events.refused + r.accounts.refused, 0)
  lines.push(`total: ${count(s.relays.length, 'relay')}, ${count(total, 'event')} ${verb}, ${refused} rows refused, ${s.refusedRelays.length} relays refused`)
  const unlisted = s.refusalsNotKept
  if (unlisted > 0) lines.push(`(${unlisted} more refusals were reported as they happened; the summary keeps the first ${s.refusals.length})`)
  return lines.join('\n')
}
