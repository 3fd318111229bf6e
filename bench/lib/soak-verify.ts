// The loss check: every id the relay OK'd is asked for again by id, in batches. An id the relay
// answers EOSE without is lost; a batch it refuses, or that times out, is unverified (not lost, but
// not proven kept either).
import { openClient, type WireClient } from './wire-client.ts'

export interface Verification {
  checked: number
  missing: string[]
  unverified: number
  /** Why batches went unverified (first few). */
  problems: string[]
}

export async function verifyStored(url: string, ids: string[], batch: number, budgetMs: number): Promise<Verification> {
  const deadline = Date.now() + budgetMs
  const out: Verification = { checked: 0, missing: [], unverified: 0, problems: [] }
  const problem = (p: string) => out.problems.length < 5 && out.problems.push(p)
  let client: WireClient | undefined
  for (let i = 0; i < ids.length; i += batch) {
    const part = ids.slice(i, i + batch)
    if (Date.now() > deadline) {
      out.unverified += ids.length - i
      problem('verification budget spent')
      break
    }
    if (!client?.isOpen()) client = await openClient(url, 5000).catch(() => undefined)
    if (!client) {
      out.unverified += part.length
      problem('cannot connect')
      continue
    }
    const a = await client.req(`v${i}`, [{ ids: part, limit: part.length }], { timeoutMs: 15_000, close: true, collectIds: true })
    if (a.outcome !== 'eose') {
      out.unverified += part.length
      problem(`${a.outcome} ${a.text}`.trim())
      continue
    }
    const got = new Set(a.ids)
    for (const id of part) if (!got.has(id)) out.missing.push(id)
    out.checked += part.length
  }
  client?.close()
  return out
}
