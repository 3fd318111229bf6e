// The bunker's scrypt pool (its own worker threads, a bounded queue) and the per-key bound on failed
// unlock attempts.
import { scryptSync } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { createScryptPool, ScryptBusy } from '../../plugin/bunker/scrypt-pool.ts'
import { createUnlockGuard } from '../../plugin/bunker/unlock-guard.ts'

const salt = new Uint8Array(16).fill(1)
const reference = (password: string, logn: number) =>
  new Uint8Array(scryptSync(password.normalize('NFKC'), salt, 32, { N: 2 ** logn, r: 8, p: 1, maxmem: 1024 * 2 ** logn + 1024 * 1024 }))

describe('scrypt pool', () => {
  test('runs workers + queue jobs, refuses the rest at once, and answers each with its own key', async () => {
    const pool = createScryptPool({ workers: 1, maxQueue: 2 })
    try {
      const settled: string[] = []
      const jobs = ['a', 'b', 'c', 'd', 'e'].map(async (pw) => {
        try {
          const key = await pool.derive(pw, salt, 14)
          settled.push(`ok ${pw}`)
          return key
        } catch (err) {
          settled.push(`busy ${pw}`)
          return err
        }
      })
      const results = await Promise.all(jobs)
      // the refusals came before any accepted job finished
      expect(settled.slice(0, 2)).toEqual(['busy d', 'busy e'])
      expect(results[3]).toBeInstanceOf(ScryptBusy)
      expect((results[4] as Error).message).toMatch(/^rate-limited:/)
      for (const [i, pw] of ['a', 'b', 'c'].entries()) expect(results[i]).toEqual(reference(pw, 14))
      // drained: new work is taken again; NFKC as NIP-49 says
      expect(await pool.derive('ﬁ', salt, 10)).toEqual(reference('fi', 10))
      await expect(pool.derive('x', salt, 30)).rejects.toThrow(/out of range/)
    } finally {
      await pool.close()
    }
  })

  test('close fails the jobs still waiting', async () => {
    const pool = createScryptPool({ workers: 1, maxQueue: 4 })
    const running = expect(pool.derive('a', salt, 14)).rejects.toThrow()
    const waiting = expect(pool.derive('b', salt, 14)).rejects.toThrow(/closed/)
    await pool.close()
    await Promise.all([running, waiting])
    await expect(pool.derive('c', salt, 10)).rejects.toThrow(/closed/)
  })
})

describe('unlock guard', () => {
  test('at most N failures per key and minute, attempts in progress counted; a success clears the key', () => {
    const guard = createUnlockGuard(3)
    const t = 1_000_000
    expect([guard.begin('k', t), guard.begin('k', t), guard.begin('k', t)]).toEqual([undefined, undefined, undefined])
    expect(guard.begin('k', t)).toBe(60) // three already running
    expect(guard.begin('other', t)).toBeUndefined() // per key
    guard.end('k', 'not-tried', t) // refused by a full pool: no trace
    guard.end('k', 'failed', t + 1000)
    guard.end('k', 'failed', t + 2000)
    expect(guard.begin('k', t + 3000)).toBeUndefined()
    guard.end('k', 'failed', t + 3000)
    expect(guard.begin('k', t + 30_000)).toBe(31) // the oldest failure leaves the window at t + 61 s
    expect(guard.begin('k', t + 61_000)).toBeUndefined()
    guard.end('k', 'ok', t + 61_000)
    expect([guard.begin('k', t + 62_000), guard.begin('k', t + 62_000), guard.begin('k', t + 62_000)]).toEqual([undefined, undefined, undefined])
  })
})
