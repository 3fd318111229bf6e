// A deterministic synthetic dataset for query benchmarks: the same events, in the same order, for
// every relay under test. Signatures are placeholders: stores are seeded directly, not through EVENT.
import type { NostrEvent } from '../../relay/relay.ts'

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex64 = (rand: () => number): string => {
  let s = ''
  for (let i = 0; i < 8; i++)
    s += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, '0')
  return s
}

export const AUTHORS = 1000
export const TOPICS = 50
const KINDS = [1, 1, 1, 1, 1, 1, 1, 7, 7, 6]
const SIG = '0'.repeat(128)
const NOW = 1_760_000_000

export interface Dataset {
  authors: string[]
  topics: string[]
  /** Yields `count` events, oldest first. */
  events(count: number): Generator<NostrEvent>
}

export function dataset(seed = 42): Dataset {
  const rand = mulberry32(seed)
  const authors = Array.from({ length: AUTHORS }, () => hex64(rand))
  const topics = Array.from({ length: TOPICS }, (_, i) => `topic${i}`)
  return {
    authors,
    topics,
    *events(count) {
      const r = mulberry32(seed + 1)
      for (let i = 0; i < count; i++) {
        const tags: string[][] = [['p', authors[Math.floor(r() * AUTHORS)]]]
        if (r() < 0.3) tags.push(['e', hex64(r)])
        if (r() < 0.4) tags.push(['t', topics[Math.floor(r() * TOPICS)]])
        yield {
          id: hex64(r),
          pubkey: authors[Math.floor(r() * AUTHORS)],
          created_at: NOW - count + i,
          kind: KINDS[Math.floor(r() * KINDS.length)],
          tags,
          content: `synthetic event ${i} ${'lorem ipsum '.repeat(1 + Math.floor(r() * 8))}`,
          sig: SIG,
        }
      }
    },
  }
}
