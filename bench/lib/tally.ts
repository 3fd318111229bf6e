// Counting what a load generator saw: outcomes by name (a relay's refusals by their NIP-01 prefix)
// and latency samples, summarised in the child so that its final report stays one short line.
import { percentile, round } from './report.ts'

/** Samples kept per series: enough for a p99, bounded however long the soak runs. */
const MAX_SAMPLES = 20_000

export interface Summary {
  n: number
  p50: number
  p99: number
  max: number
}

export interface TallySnapshot {
  counts: Record<string, number>
  latency: Record<string, Summary>
  notes: string[]
}

export interface Tally {
  count(key: string, n?: number): void
  sample(key: string, ms: number): void
  /** A one-off remark (first occurrences only; at most 20 kept). */
  note(text: string): void
  get(key: string): number
  snapshot(): TallySnapshot
}

/** 'rate-limited: too many' -> 'rate-limited:'; a reason without a prefix -> 'no prefix'. */
export function prefixOf(message: string): string {
  const m = /^([a-z-]+):/.exec(message)
  return m ? `${m[1]}:` : 'no prefix'
}

export function summarise(values: number[]): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 50), 2),
    p99: round(percentile(values, 99), 2),
    max: round(values.length ? Math.max(...values) : Number.NaN, 2),
  }
}

export function createTally(): Tally {
  const counts: Record<string, number> = {}
  const samples: Record<string, number[]> = {}
  const seen: Record<string, number> = {}
  const notes: string[] = []
  return {
    count(key, n = 1) {
      counts[key] = (counts[key] ?? 0) + n
    },
    sample(key, ms) {
      const list = (samples[key] ??= [])
      seen[key] = (seen[key] ?? 0) + 1
      if (list.length < MAX_SAMPLES) list.push(ms)
      else {
        // reservoir sampling: every sample equally likely to be kept
        const j = Math.floor(Math.random() * seen[key])
        if (j < MAX_SAMPLES) list[j] = ms
      }
    },
    note(text) {
      if (notes.length < 20 && !notes.includes(text)) notes.push(text)
    },
    get: (key) => counts[key] ?? 0,
    snapshot: () => ({
      counts: { ...counts },
      latency: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarise(v)])),
      notes: [...notes],
    }),
  }
}
