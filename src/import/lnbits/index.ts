// LNbits nostrrelay importer (issue 10): public API.
//
//   const source = sqlitePath ? openLnbitsSqlite(sqlitePath) : await openLnbitsPostgres(url)
//   try {
//     const summary = await applyLnbits(readLnbits(source), dryRun ? null : target, { onRefusal: (r) => log(formatRefusal(r)) })
//     print(formatLnbitsSummary(summary))
//   } finally { await source.close() }
//
// or `importLnbits({ sqlite | postgres, target, ... })`, which does just that.
import { type ApplyOptions, applyLnbits, type LnbitsTarget } from './apply.ts'
import { type PostgresOptions, openLnbitsPostgres } from './postgres.ts'
import { readLnbits } from './read.ts'
import type { SourceOptions } from './source.ts'
import { openLnbitsSqlite } from './sqlite.ts'
import type { LnbitsSummary } from './summary.ts'

export type { ApplyOptions, EventWriteOutcome, LnbitsTarget } from './apply.ts'
export { applyLnbits } from './apply.ts'
export type { PostgresOptions } from './postgres.ts'
export { openLnbitsPostgres, redactUrl } from './postgres.ts'
export type { ImportedRelay, LnbitsAccount, LnbitsRecord, LnbitsRelayInfo, Refusal, RefusalCode } from './read.ts'
export { readLnbits } from './read.ts'
export type { LnbitsLimits, LnbitsRelaySettings } from './settings.ts'
export { lnbitsLimits, normaliseLnbitsSettings } from './settings.ts'
export type { LnbitsSource, SourceOptions } from './source.ts'
export { openLnbitsSqlite } from './sqlite.ts'
export type { LnbitsRelaySummary, LnbitsSummary } from './summary.ts'
export { formatLnbitsSummary, formatRefusal } from './summary.ts'

export type ImportLnbitsOptions = ({ sqlite: string; postgres?: undefined } | { postgres: string; sqlite?: undefined }) &
  PostgresOptions &
  SourceOptions &
  ApplyOptions & {
    /** null: dry run, read and verify everything, write nothing. */
    target: LnbitsTarget | null
  }

export async function importLnbits(opts: ImportLnbitsOptions): Promise<LnbitsSummary> {
  const source = opts.sqlite !== undefined ? openLnbitsSqlite(opts.sqlite, opts) : await openLnbitsPostgres(opts.postgres, opts)
  try {
    return await applyLnbits(readLnbits(source), opts.target, opts)
  } finally {
    await source.close()
  }
}
