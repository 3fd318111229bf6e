// What commands print: aligned plain-text tables for people, or JSON (`--json`) for scripts.
export type Row = Record<string, unknown>
export type Columns = ReadonlyArray<readonly [key: string, header: string]>

const cell = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v))

export function table(rows: readonly Row[], columns: Columns): string {
  if (rows.length === 0) return '(none)'
  const text = rows.map((r) => columns.map(([k]) => cell(r[k])))
  const widths = columns.map(([, h], i) => Math.max(h.length, ...text.map((t) => t[i].length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(columns.map(([, h]) => h.toUpperCase())), ...text.map(line)].join('\n')
}

/** Prints `data` as JSON when asked, else as what `human` makes of it. */
export function emit(json: boolean | undefined, data: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(data) : human()}\n`)
}

/** ISO dates shortened to the minute, for tables. */
export const shortDate = (iso: unknown): string | null => (typeof iso === 'string' && iso.length >= 16 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : null)
