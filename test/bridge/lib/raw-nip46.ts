// A NIP-46 client on raw sockets, for counting replies: it publishes one signed request event to
// whichever relays it is told, and collects every distinct reply event (by event id) per request id.
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { now, rawClient, type RawClient } from '../../helpers/clients.ts'

export interface RawNip46 {
  pubkey: string
  /** Signs a request; created_at may be set back to make it stale. */
  request(id: string, method: string, params: string[], createdAt?: number): Event
  publish(ev: Event, sockets?: RawClient[]): void
  /** Distinct reply events per request id, with their decrypted bodies. */
  replies: Map<string, Map<string, { result: string; error?: string }>>
  /** Resolves once every id has at least one reply (or rejects after ms). */
  answered(ids: string[], ms: number): Promise<void>
  sockets: RawClient[]
  close(): void
}

export async function rawNip46(relays: string[], signer: string): Promise<RawNip46> {
  const sk = generateSecretKey()
  const pubkey = getPublicKey(sk)
  const key = nip44.getConversationKey(sk, signer)
  const sockets = await Promise.all(relays.map((r) => rawClient(r)))
  const replies = new Map<string, Map<string, { result: string; error?: string }>>()
  const waiters = new Set<() => void>()
  for (const s of sockets) {
    s.ws.on('message', (data) => {
      const f = JSON.parse(data.toString())
      if (f[0] !== 'EVENT' || f[1] !== 'replies') return
      const e = f[2] as Event
      const body = JSON.parse(nip44.decrypt(e.content, key)) as { id: string; result: string; error?: string }
      let m = replies.get(body.id)
      if (!m) replies.set(body.id, (m = new Map()))
      m.set(e.id, body)
      for (const w of waiters) w()
    })
    s.send(['REQ', 'replies', { kinds: [24133], authors: [signer], '#p': [pubkey], limit: 0 }])
    await s.next((f) => f[0] === 'EOSE' && f[1] === 'replies')
  }
  return {
    pubkey,
    replies,
    sockets,
    request: (id, method, params, createdAt = now()) =>
      finalizeEvent({ kind: 24133, created_at: createdAt, tags: [['p', signer]], content: nip44.encrypt(JSON.stringify({ id, method, params }), key) }, sk),
    publish(ev, to = sockets) {
      for (const s of to) s.send(['EVENT', ev])
    },
    answered(ids, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!ids.every((id) => replies.has(id))) return
          clearTimeout(t)
          waiters.delete(check)
          resolve()
        }
        const t = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no reply within ${ms} ms to ${ids.filter((id) => !replies.has(id)).join(', ')}`))
        }, ms)
        waiters.add(check)
        check()
      })
    },
    close() {
      for (const s of sockets) s.close()
    },
  }
}
