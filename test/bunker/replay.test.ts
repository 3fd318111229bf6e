// Replay after a flood: the relay and the bunker used to remember the last 100,000 request ids while
// a request stays acceptable for 300 s, so 100,500 cheap events pushed a captured admin request out
// of both, and re-sending it re-granted a revoked permission. The bunker now remembers every
// accepted request for its whole window, by event id and by (key, client, rpc id).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateSecretKey } from 'nostr-tools/pure'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'
import { npubToHex, startBunkerServer, type BunkerServer } from '../helpers/bunker.ts'
import { now, WebSocket } from '../helpers/clients.ts'
import { rawPeer, type RawPeer } from './raw.ts'

/** Past the 100,000 ids both used to keep, whatever else they had seen. */
const FLOOD = 100_500
const CONNECTIONS = 4
const IN_FLIGHT = 500
/** A new throwaway author every this many events, as a stranger would. */
const PER_KEY = 200

/**
 * Publishes `total` garbage kind-24133 events p-tagged to `to`; resolves once the relay has answered
 * each (or closed the connection), with how many it accepted.
 */
async function flood(url: string, to: string, total: number): Promise<{ ok: number }> {
  const per = Math.ceil(total / CONNECTIONS)
  const results = await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      const ws = new WebSocket(url)
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      let sent = 0
      let answered = 0
      let ok = 0
      let sk = generateSecretKey()
      let pk = publicKeyOf(sk)
      const done = new Promise<number>((resolve) => {
        const pump = () => {
          for (; sent < per && sent - answered < IN_FLIGHT; sent++) {
            if (sent % PER_KEY === 0) pk = publicKeyOf((sk = generateSecretKey()))
            const e = signEvent({ kind: 24133, created_at: now(), tags: [['p', to]], content: `flood ${c} ${sent}` }, sk, pk)
            ws.send(JSON.stringify(['EVENT', e]))
          }
        }
        ws.once('close', () => resolve(ok))
        ws.on('message', (data) => {
          const f = JSON.parse(data.toString()) as unknown[]
          if (f[0] !== 'OK') return
          answered++
          if (f[2] === true) ok++
          if (answered === per) resolve(ok)
          else pump()
        })
        pump()
      })
      const n = await done
      ws.close()
      return n
    }),
  )
  return { ok: results.reduce((a, n) => a + n, 0) }
}

let b: BunkerServer
let admin: RawPeer
let seq = 0
async function call(method: string, params: string[]): Promise<string> {
  const id = `a${seq++}`
  admin.request(b.bunker.pubkey, { id, method, params })
  const r = await admin.reply(id)
  if (r.error) throw new Error(r.error)
  return r.result
}

beforeAll(async () => {
  b = await startBunkerServer()
  admin = await rawPeer(b.server.url, b.adminSk)
})
afterAll(async () => {
  admin?.close()
  await b?.server.stop()
})

describe('replay after a flood', () => {
  test(`a captured grant_permission, re-sent after ${FLOOD} other events, as the same event and re-wrapped, does not re-grant a revoked permission`, async () => {
    const key = npubToHex(JSON.parse(await call('create_new_key', ['k', 'pw'])).npub)
    await call('create_new_policy', [JSON.stringify({ name: 'none', rules: [] })])
    const [policy] = JSON.parse(await call('get_policies', []))
    await call('create_new_token', ['k', 'app', String(policy.id)])
    const [token] = JSON.parse(await call('get_key_tokens', ['k']))
    const client = await rawPeer(b.server.url)
    client.request(key, { id: 'c', method: 'connect', params: [key, token.token.split('#')[1]] })
    expect((await client.reply('c')).result).toBe('ack')
    const [user] = JSON.parse(await call('get_key_users', ['k']))

    // the captured request: its event, and its plaintext
    const body = { id: 'captured', method: 'grant_permission', params: [String(user.id), 'sign_event', '1'] }
    const captured = admin.request(b.bunker.pubkey, body)
    expect((await admin.reply('captured')).result).toBe('["ok"]')
    const [perm] = JSON.parse(await call('get_permissions', [String(user.id)]))
    await call('revoke_permission', [String(perm.id)])
    expect(JSON.parse(await call('get_permissions', [String(user.id)]))).toEqual([])

    const { ok } = await flood(b.server.url, b.bunker.pubkey, FLOOD)
    expect(ok).toBeGreaterThan(100_000) // more than the old memories held

    admin.send(captured) // the same event
    const rewrapped = admin.request(b.bunker.pubkey, body) // the same rpc id in a new event
    expect(rewrapped.id).not.toBe(captured.id)
    expect(JSON.parse(await call('get_permissions', [String(user.id)]))).toEqual([])
    await new Promise((r) => setTimeout(r, 300))
    const answers = admin.replies.filter((r) => r.id === 'captured')
    expect(answers).toHaveLength(2) // the first grant, and the re-wrap's refusal; the same event is dropped
    expect(answers[1]).toMatchObject({ result: 'error', error: expect.stringMatching(/^duplicate:/) })
    expect(JSON.parse(await call('get_permissions', [String(user.id)]))).toEqual([])
    client.close()
  }, 120_000)
})
