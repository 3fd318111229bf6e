// Small helpers shared by the importers' human-readable summaries.

/** "1 event", "3 events", "2 policies" (give `plural` where adding "s" is wrong). */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`

/** An epoch-milliseconds time as ISO 8601, or "never". */
export const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString())
