// Percentiles, a plain-text table, and JSON results under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n)

export function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)'
  const cols = Object.keys(rows[0])
  const cell = (v: unknown) =>
    v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '-' : typeof v === 'number' ? String(round(v)) : String(v)
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`
  return [line(cols), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n')
}

const RESULTS = new URL('../results/', import.meta.url).pathname

/** Writes bench/results/<name>.json (latest) and a timestamped copy. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true })
  const body = `${JSON.stringify({ name, at: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2)}\n`
  const stamped = join(RESULTS, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(stamped, body)
  writeFileSync(join(RESULTS, `${name}.json`), body)
  return stamped
}
