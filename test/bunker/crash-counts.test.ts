// Use counts across a crash: a limited permission's new count must be on disk before its reply
// leaves. Before, the reply went first: after a SIGKILL at the 5th reply of a 5-use permission,
// more signatures were allowed after the restart in most rounds.
import { describe, expect, test } from 'vitest'
import { generateSecretKey } from 'nostr-tools/pure'
import { npubToHex, startBunkerServer, type BunkerServer } from '../helpers/bunker.ts'
import { now } from '../helpers/clients.ts'
import { tempDir } from '../helpers/server.ts'
import { rawPeer, type RawPeer } from './raw.ts'

const USES = 5
const ROUNDS = 5
/** Keys come back unlocked at boot, so the restarted bunker answers at once. */
const env = { NSECRELAY_VAULT_SECRET: 'crash-counts-vault-secret' }

const sign = (i: number) => ({ id: `s${i}`, method: 'sign_event', params: [JSON.stringify({ kind: 1, content: `#${i}`, tags: [], created_at: now() })] })

describe('use counts across a crash', () => {
  test(`SIGKILL right as the ${USES}th reply of a ${USES}-use permission arrives: after a restart no further use is allowed (${ROUNDS} rounds)`, async () => {
    const data = tempDir()
    const adminSk = generateSecretKey()
    let b: BunkerServer = await startBunkerServer({ data, adminSk, env })
    let admin: RawPeer = await rawPeer(b.server.url, adminSk)
    let seq = 0
    const call = async (method: string, params: string[]) => {
      const id = `a${seq++}`
      admin.request(b.bunker.pubkey, { id, method, params })
      const r = await admin.reply(id)
      if (r.error) throw new Error(r.error)
      return r.result
    }
    await call('create_new_policy', [JSON.stringify({ name: 'five', rules: [{ method: 'sign_event', kind: 1, use_count: USES }] })])
    const [policy] = JSON.parse(await call('get_policies', []))
    const extra: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const name = `k${round}`
      const key = npubToHex(JSON.parse(await call('create_new_key', [name, 'pw'])).npub)
      await call('create_new_token', [name, 'app', String(policy.id)])
      const [token] = JSON.parse(await call('get_key_tokens', [name]))
      const client = await rawPeer(b.server.url)
      client.request(key, { id: 'c', method: 'connect', params: [key, token.token.split('#')[1]] })
      expect((await client.reply('c')).result).toBe('ack')
      const victim = b.server
      client.onReply = (_, count) => {
        if (count === 1 + USES) victim.proc.kill('SIGKILL') // in the same turn the last reply arrives
      }
      for (let i = 0; i < USES; i++) client.request(key, sign(i))
      await client.until(1 + USES)
      expect(client.replies.slice(1).map((r) => r.error)).toEqual(Array(USES).fill(undefined))
      await victim.stop()
      admin.close()
      client.close()

      b = await startBunkerServer({ data, adminSk, env })
      admin = await rawPeer(b.server.url, adminSk)
      const again = await rawPeer(b.server.url, client.sk)
      for (let i = 0; i < 3; i++) again.request(key, sign(100 + i))
      await again.until(3)
      extra.push(again.replies.filter((r) => !/used up/.test(r.error ?? '')).length)
      again.close()
    }
    expect(extra).toEqual(Array(ROUNDS).fill(0)) // per round: requests after the restart not refused as used up
    admin.close()
    await b.server.stop()
  }, 120_000)
})
