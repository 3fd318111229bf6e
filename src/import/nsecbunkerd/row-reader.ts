// Reads one row's columns, turning every unreadable value into a problem that names the table,
// the row id and the column (and the value, unless it is a secret).
import type { Row } from './db.ts'
import { toInt } from './values.ts'

/** A column converter: undefined for a value it cannot read. */
export type Conv<T> = (v: unknown) => T | undefined
export const text: Conv<string> = (v) => (typeof v === 'string' ? v : undefined)
export const textOrNull: Conv<string | null> = (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : undefined)
/** The column must not be NULL. */
export const required =
  <T>(conv: Conv<T | null>): Conv<T> =>
  (v) =>
    conv(v) ?? undefined

export interface Reader {
  /** false once any column of the row was a problem */
  readonly ok: boolean
  id(): number | undefined
  get<T>(col: string, conv: Conv<T>, expected?: string, secret?: boolean): T
  problem(col: string, message: string): void
}

/** Reads one row's columns, turning every unreadable value into a problem that names the row. */
export function reader(table: string, row: Row, problems: string[]): Reader {
  const where = `${table} row ${JSON.stringify(row.id ?? null)}`
  const r: Reader & { ok: boolean } = {
    ok: true,
    id: () => {
      const id = toInt(row.id)
      if (id === null || id === undefined) r.problem('id', 'not an integer')
      return id ?? undefined
    },
    get<T>(col: string, conv: Conv<T>, expected?: string, secret = false): T {
      const v = conv(row[col])
      if (v === undefined)
        r.problem(col, `unreadable value${expected ? ` (expected ${expected})` : ''}${secret ? '' : `: ${JSON.stringify(row[col])?.slice(0, 80)}`}`)
      return v as T
    },
    problem(col, message) {
      r.ok = false
      problems.push(`${where}: ${col}: ${message}`)
    },
  }
  return r
}
