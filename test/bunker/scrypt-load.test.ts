// A burst of scrypt work (create_new_key, wrong unlock_key) must not stall the relay: scrypt runs on
// the bunker's own bounded worker pool, never on libuv's threads that LMDB commits use, and work
// past its queue, or past a key's unlock-failure bound, is refused at once. Before, 40 such requests
// held an unrelated client's OK for seconds and every request ran.
import { performance } from 'node:perf_hooks'
import { describe, expect, test } from 'vitest'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { now, rawClient, signed, type RawClient } from '../helpers/clients.ts'
import { bunkerSignerAdmin, fastPool, startBunkerServer, type BunkerServer } from '../helpers/bunker.ts'
import { tempDir } from '../helpers/server.ts'

const WORKERS = 1
const QUEUE = 4
const UNLOCK_LIMIT = 3
// logN 16 (NIP-49's default): ~0.25 s a job here; 40 of them on libuv's pool delayed a commit by seconds
const BUNKER = { scryptLogN: 16, aclTimeoutSeconds: 1, scryptWorkers: WORKERS, scryptQueue: QUEUE, unlockFailuresPerMinute: UNLOCK_LIMIT }
const BURST = 20
const LIVENESS_MS = 1000

interface Answer {
  result: string
  error?: string
  ms: number
}

/** Admin requests as raw events: the relay's OK says the bunker has taken each one in hand. */
async function rawAdmin(b: BunkerServer) {
  const ws = await rawClient(b.server.url)
  const ck = nip44.getConversationKey(b.adminSk, b.bunker.pubkey)
  const pending = new Map<string, { sent: number; resolve: (a: Answer) => void }>()
  ws.ws.on('message', (data) => {
    const f = JSON.parse(data.toString())
    if (f[0] !== 'EVENT' || f[1] !== 'replies') return
    const res = JSON.parse(nip44.decrypt(f[2].content, ck))
    const p = pending.get(res.id)
    if (!p) return
    pending.delete(res.id)
    p.resolve({ result: res.result, error: res.error, ms: performance.now() - p.sent })
  })
  ws.send(['REQ', 'replies', { kinds: [24133], authors: [b.bunker.pubkey], '#p': [b.adminPk], limit: 0 }])
  await ws.next((f) => f[0] === 'EOSE')
  let n = 0
  return {
    ws,
    /** Sends a request; `accepted` resolves on the relay's OK, `answer` on the bunker's reply. */
    send(method: string, params: string[]) {
      const id = `r${n++}`
      const content = nip44.encrypt(JSON.stringify({ id, method, params }), ck)
      const ev = finalizeEvent({ kind: 24133, created_at: now(), tags: [['p', b.bunker.pubkey]], content }, b.adminSk)
      const answer = new Promise<Answer>((resolve) => pending.set(id, { sent: performance.now(), resolve }))
      const accepted = ws.next((f) => f[0] === 'OK' && f[1] === ev.id, 10_000)
      ws.send(['EVENT', ev])
      return { accepted, answer }
    },
  }
}

async function timedOk(client: RawClient): Promise<{ ok: boolean; ms: number }> {
  const ev = signed()
  const t0 = performance.now()
  client.send(['EVENT', ev])
  const f = await client.next((f) => f[0] === 'OK' && f[1] === ev.id, 20_000)
  return { ok: f[2] === true, ms: performance.now() - t0 }
}

describe('scrypt on its own bounded pool', () => {
  test(`${BURST} create_new_key and ${BURST} wrong unlock_key: an unrelated EVENT is acknowledged within ${LIVENESS_MS} ms, work past the bounds is refused at once; a failed unlock is logged as an error`, async () => {
    const data = tempDir()
    const adminSk = generateSecretKey()
    // a locked key: created, then the server restarted without a vault secret
    const first = await startBunkerServer({ data, adminSk, config: { bunker: BUNKER } })
    const p1 = await fastPool()
    const a1 = await bunkerSignerAdmin(first, p1)
    await a1.call('create_new_key', ['victim', 'right passphrase'])
    await a1.close()
    p1.destroy()
    expect(await first.server.stop()).toBe(0)

    const b = await startBunkerServer({ data, adminSk, config: { bunker: BUNKER }, env: { NSECRELAY_LOG_LEVEL: 'info' } })
    const admin = await rawAdmin(b)
    const stranger = await rawClient(b.server.url)
    try {
      const warm = await timedOk(stranger)
      expect(warm.ok).toBe(true)

      const sent = [
        ...Array.from({ length: BURST }, (_, i) => admin.send('create_new_key', [`burst-${i}`, 'pw'])),
        ...Array.from({ length: BURST }, () => admin.send('unlock_key', ['victim', 'wrong'])),
      ]
      await Promise.all(sent.map((s) => s.accepted)) // every request is with the bunker now
      const ping = admin.send('ping', [])
      const event = await timedOk(stranger)
      const pong = await ping.answer

      const answers = await Promise.all(sent.map((s) => s.answer))
      const creates = answers.slice(0, BURST)
      const unlocks = answers.slice(BURST)
      const limited = answers.filter((a) => a.error?.startsWith('rate-limited:'))
      const wrong = unlocks.filter((a) => a.result.includes('wrong passphrase'))
      const created = creates.filter((a) => a.result.startsWith('{"npub"'))
      const summary = { eventOkMs: Math.round(event.ms), pongMs: Math.round(pong.ms), limited: limited.length, wrong: wrong.length, created: created.length }

      expect(event.ok, JSON.stringify(summary)).toBe(true)
      expect(event.ms, JSON.stringify(summary)).toBeLessThan(LIVENESS_MS)
      expect(pong.result).toBe('ok')
      expect(pong.ms, JSON.stringify(summary)).toBeLessThan(LIVENESS_MS)
      // no more passphrase guesses reach scrypt than the per-key bound, the rest are refused
      expect(wrong.length, JSON.stringify(summary)).toBeLessThanOrEqual(UNLOCK_LIMIT)
      // the pool takes WORKERS + QUEUE jobs at a time; a burst handled in a few ms leaves room for few more
      expect(limited.length, JSON.stringify(summary)).toBeGreaterThanOrEqual(2 * BURST - UNLOCK_LIMIT - 2 * (WORKERS + QUEUE))
      for (const a of limited) expect(a.ms, JSON.stringify(summary)).toBeLessThan(LIVENESS_MS)
      // every request had exactly one answer: created, a wrong passphrase, or refused
      expect(created.length + wrong.length + limited.length).toBe(2 * BURST)
      expect(created.length).toBeGreaterThan(0)

      // the pool is idle again: passphrase guesses alone meet the per-key bound
      const guesses = await Promise.all(Array.from({ length: 10 }, () => admin.send('unlock_key', ['victim', 'wrong']).answer))
      expect(guesses.filter((a) => a.result.includes('wrong passphrase')).length).toBe(UNLOCK_LIMIT)
      const refused = guesses.filter((a) => /^rate-limited: too many failed unlock attempts/.test(a.error ?? ''))
      expect(refused.length).toBeGreaterThanOrEqual(10 - UNLOCK_LIMIT)
      for (const a of refused) expect(a.ms).toBeLessThan(LIVENESS_MS)
      // within the minute even the right passphrase waits: the bound is per key, not per guess
      expect((await admin.send('unlock_key', ['victim', 'right passphrase']).answer).error).toMatch(/^rate-limited:/)
      // and a failed unlock is logged as an error, though its result keeps nsecbunkerd's shape
      expect(await b.server.stop()).toBe(0) // flushes the log
      const logged = b.server.stderr.filter((l) => l.includes('RESPONSE_SENT') && l.includes('unlock_key')).map((l) => JSON.parse(l))
      expect(logged.length).toBe(BURST + 10 + 1)
      expect(logged.every((l) => l.outcome === 'error')).toBe(true)
    } finally {
      stranger.close()
      admin.ws.close()
      await b.server.stop()
    }
  }, 120_000)
})
