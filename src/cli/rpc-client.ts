// The CLI's admin client: nsecbunkerd's admin RPC, spoken to a running nsecrelay over its own relay
// with nostr-tools (kind 24133, NIP-44), from the local admin client key. It also hears the
// bunker's `acl` questions to this admin (kind 24134) and answers them in the scheme they came in.
// Every wait is bounded: connecting, publishing, and each answer.
import { randomBytes } from 'node:crypto'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, getPublicKey, type Event } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { CliError } from './errors.ts'

useWebSocketImplementation(WebSocket)

const NIP46_KIND = 24133
const ADMIN_KIND = 24134

export interface AclRequest {
  /** The rpc id, answered with `answer`. */
  id: string
  keyName: string
  remotePubkey: string
  method: string
  param?: string
  description?: string
}

export interface AdminClient {
  readonly pubkey: string
  /** The result string; throws CliError with the bunker's error message, or on timeout. */
  call(method: string, params?: string[]): Promise<string>
  /** Calls `onQuestion` for each acl question the bunker sends this admin from now on. */
  onAcl(onQuestion: (q: AclRequest) => void): void
  /** Answers an acl question: ["always", description?, {kind}], ["once"] or ["never"]. */
  answer(q: AclRequest, result: unknown[]): Promise<void>
  close(): void
}

export interface ClientOptions {
  relayUrl: string
  adminPubkey: string
  sk: Uint8Array
  timeoutMs: number
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new CliError(`${what}: no answer within ${ms / 1000} s`)), ms))),
  ])
}

export async function connectAdmin(opts: ClientOptions): Promise<AdminClient> {
  const { adminPubkey, sk, timeoutMs } = opts
  const pubkey = getPublicKey(sk)
  const key = nip44.getConversationKey(sk, adminPubkey)
  const relay = await within(Relay.connect(opts.relayUrl), timeoutMs, `connecting to ${opts.relayUrl}`).catch((err) => {
    throw err instanceof CliError ? err : new CliError(`cannot reach the relay at ${opts.relayUrl}: ${(err as Error).message}; is nsecrelay running?`)
  })
  const pending = new Map<string, { resolve: (r: string) => void; reject: (e: Error) => void }>()
  const schemes = new Map<string, 'nip04' | 'nip44'>()
  let onQuestion: ((q: AclRequest) => void) | undefined

  const decrypt = (e: Event): { text: string; scheme: 'nip04' | 'nip44' } | undefined => {
    try {
      if (e.content.includes('?iv=')) return { text: nip04.decrypt(sk, adminPubkey, e.content), scheme: 'nip04' }
      return { text: nip44.decrypt(e.content, key), scheme: 'nip44' }
    } catch {
      return undefined
    }
  }

  function heard(e: Event): void {
    const opened = decrypt(e)
    if (!opened) return
    let msg: { id?: unknown; result?: unknown; error?: unknown; method?: unknown; params?: unknown }
    try {
      msg = JSON.parse(opened.text)
    } catch {
      return
    }
    if (typeof msg.id !== 'string') return
    if (msg.method === 'acl' && Array.isArray(msg.params) && onQuestion) {
      try {
        const q = JSON.parse(String(msg.params[0]))
        schemes.set(msg.id, opened.scheme)
        onQuestion({ id: msg.id, ...q })
      } catch {}
      return
    }
    const waiter = pending.get(msg.id)
    if (!waiter) return
    pending.delete(msg.id)
    if (typeof msg.error === 'string' && msg.error) waiter.reject(new CliError(msg.error))
    else waiter.resolve(typeof msg.result === 'string' ? msg.result : JSON.stringify(msg.result))
  }

  await within(
    new Promise<void>((resolve) => {
      relay.subscribe([{ kinds: [NIP46_KIND, ADMIN_KIND], authors: [adminPubkey], '#p': [pubkey], limit: 0 }], { onevent: heard, oneose: resolve })
    }),
    timeoutMs,
    'subscribing',
  )

  const publish = (kind: number, content: string) =>
    within(
      relay.publish(finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags: [['p', adminPubkey]], content }, sk)),
      timeoutMs,
      'publishing',
    ).catch((err) => {
      throw err instanceof CliError ? err : new CliError(`the relay refused the request: ${(err as Error).message ?? err}`)
    })

  return {
    pubkey,
    async call(method, params = []) {
      const id = randomBytes(8).toString('hex')
      const answer = new Promise<string>((resolve, reject) => pending.set(id, { resolve, reject }))
      try {
        await publish(NIP46_KIND, nip44.encrypt(JSON.stringify({ id, method, params }), key))
        return await within(answer, timeoutMs, method)
      } finally {
        pending.delete(id)
      }
    },
    onAcl(handler) {
      onQuestion = handler
    },
    async answer(q, result) {
      const body = JSON.stringify({ id: q.id, result: JSON.stringify(result) })
      const content = schemes.get(q.id) === 'nip04' ? nip04.encrypt(sk, adminPubkey, body) : nip44.encrypt(body, key)
      schemes.delete(q.id)
      await publish(ADMIN_KIND, content)
    },
    close: () => relay.close(),
  }
}
