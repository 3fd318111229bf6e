// NIP-46 for user keys: the remote-signer pubkey is the user's pubkey. Requests pass admission
// (time window, replay, rate), then the acl (token, stored permission, or an admin's answer), then run.
import { z } from 'zod'
import type { NostrEvent } from '../../relay/relay.ts'
import { addUser, consume, decide, dropPermissions, grant, grantPolicy } from './acl.ts'
import type { AclAnswer, Approvals } from './approvals.ts'
import { nowSeconds, type Channel, type Identity, type Inbound, type Log } from './channel.ts'
import type { Cipher } from './crypto.ts'
import type { Reply, RpcRequest } from './rpc.ts'
import { signEvent } from './sign.ts'
import type { BunkerState, KeyUser, Token } from './state.ts'

export interface Nip46Deps {
  state: BunkerState
  channel: Channel
  cipher: Cipher
  approvals: Approvals
  log: Log
  /** Relays switch_relays hands out; empty answers "null" (stay where you are). */
  relays: () => string[]
}

const METHODS = new Set([
  'connect',
  'sign_event',
  'get_public_key',
  'ping',
  'nip04_encrypt',
  'nip04_decrypt',
  'nip44_encrypt',
  'nip44_decrypt',
  'switch_relays',
  'logout',
])
const HEX64 = /^[0-9a-f]{64}$/

const templateSchema = z.object({
  kind: z.number().int().min(0).max(65535),
  content: z.string(),
  tags: z.array(z.array(z.string())),
  created_at: z.number().int().nonnegative().optional(),
})
type Template = z.infer<typeof templateSchema>

const fail = (error: string): Reply => ({ error })
/** lastUsedAt is written at most this often per user: not one LMDB write per request. */
const TOUCH_EVERY_MS = 60_000
const COALESCE_MS = 1000
const ACK: Reply = { result: 'ack' }
const APPROVALS_FULL = 'rate-limited: too many requests are waiting for an admin’s approval'

function parseTemplate(text: string | undefined): Template | string {
  try {
    const r = templateSchema.safeParse(JSON.parse(text ?? ''))
    return r.success ? r.data : 'sign_event needs {kind, content, tags, created_at}'
  } catch {
    return 'sign_event needs a JSON event template'
  }
}

export function createNip46(deps: Nip46Deps): (identity: Identity, event: NostrEvent) => void {
  const { state, channel, log } = deps
  const commit = () => state.commit().catch((err) => log.error({ err }, 'bunker state commit failed'))
  const authUrlSent = new WeakSet<Inbound>()
  let soon: NodeJS.Timeout | undefined
  /**
   * Commits what is staged within a second, coalescing: for writes a crash may lose at no cost (use
   * counts of unlimited permissions, last-used times), so a busy client is not one fsync a request.
   * The bunker commits whatever is still staged when it closes.
   */
  function commitSoon(): void {
    if (soon) return
    soon = setTimeout(() => {
      soon = undefined
      void commit()
    }, COALESCE_MS)
    soon.unref()
  }

  function touch(user: KeyUser | undefined): void {
    const now = Date.now()
    if (!user || (user.lastUsedAt !== null && now - user.lastUsedAt < TOUCH_EVERY_MS)) return
    state.put('user', { ...user, lastUsedAt: now })
    commitSoon()
  }

  function tokenProblem(token: Token | undefined, keyName: string, now: number): string | undefined {
    if (!token || token.keyName !== keyName) return 'invalid token'
    if (token.expiresAt !== null && token.expiresAt <= now) return 'token expired'
    const policy = state.policies.get(token.policyId)
    if (!policy) return 'the token’s policy no longer exists'
    if (policy.expiresAt !== null && policy.expiresAt <= now) return 'the token’s policy expired'
    return undefined
  }

  async function redeem(token: Token, keyName: string, client: string, now: number): Promise<Reply> {
    if (token.redeemedAt !== null) {
      const by = token.redeemedBy === null ? undefined : state.users.get(token.redeemedBy)
      return by?.pubkey === client && by.revokedAt === null ? ACK : fail('token already redeemed')
    }
    const policy = state.policies.get(token.policyId)!
    const user = addUser(state, keyName, client, token.clientName, now)
    dropPermissions(state, user.id)
    grantPolicy(state, user.id, policy)
    state.put('token', { ...token, redeemedAt: now, redeemedBy: user.id, updatedAt: now })
    state.audit({ at: now, event: 'token_redeemed', key: keyName, client, token: token.id })
    await state.commit() // one transaction: user, permissions and the redeemed mark
    return ACK
  }

  async function connect(inbound: Inbound, req: RpcRequest): Promise<Reply> {
    const keyName = inbound.identity.name
    const client = inbound.event.pubkey
    const now = Date.now()
    const user = state.userFor(keyName, client)
    if (user && user.revokedAt === null) return ACK
    const secret = req.params[1]
    if (secret) {
      const token = state.tokenBySecret(secret)
      const problem = tokenProblem(token, keyName, now)
      return problem ? fail(problem) : redeem(token!, keyName, client, now)
    }
    if (user) return fail('this client was revoked')
    const q = { keyName, remotePubkey: client, method: 'connect', param: req.params[2], metadata: req.params[3] }
    const r = await deps.approvals.ask(
      q,
      (answer) => {
        if (answer.answer === 'never' && answer.block) block(keyName, client)
        if (answer.answer !== 'always' && answer.answer !== 'once') return false
        addUser(state, keyName, client, answer.answer === 'always' ? (answer.description ?? null) : null, Date.now())
        return true
      },
      authUrl(inbound, req),
    )
    if (r === 'full') return fail(APPROVALS_FULL)
    if (r === 'retry') return connect(inbound, req) // approved meanwhile, most likely
    if (r === 'refused' || !r.asked) {
      void commit() // a "deny always" stored the client as revoked
      return fail('connection not approved')
    }
    await state.commit()
    return ACK
  }

  /** The page's "deny always" for a client the key does not know: stored as revoked, asked no more. */
  function block(keyName: string, client: string): void {
    const now = Date.now()
    state.put('user', { ...addUser(state, keyName, client, null, now), revokedAt: now })
  }

  /**
   * Sends `{id, result: "auth_url", error: url}` for a request whose question got an approval page:
   * at most once per request, and before its real reply (the reply waits on the page's answer).
   */
  function authUrl(inbound: Inbound, req: RpcRequest): (url: string) => void {
    return (url) => {
      if (authUrlSent.has(inbound)) return
      authUrlSent.add(inbound)
      const { identity, event } = inbound
      log.debug?.({ id: req.id, method: req.method, key: identity.name, client: event.pubkey.slice(0, 12) }, 'AUTH_URL_SENT')
      channel
        .send(identity, event.pubkey, event.kind, inbound.scheme, JSON.stringify({ id: req.id, result: 'auth_url', error: url }))
        .catch((err) => log.error({ err, method: req.method }, 'auth_url reply failed'))
    }
  }

  /** Applies an admin's answer about one request; true when the request may go ahead. */
  function applyAnswer(answer: AclAnswer, user: KeyUser | undefined, keyName: string, client: string, method: string, kind: number | undefined): boolean {
    const now = Date.now()
    if (answer.answer === 'always') {
      const u = user ?? addUser(state, keyName, client, answer.description ?? null, now)
      grant(state, u.id, { method, kind: answer.kind === 'all' ? null : (answer.kind ?? kind ?? null) })
      return true
    }
    if (answer.answer === 'never' && user) grant(state, user.id, { method, kind: kind ?? null, allowed: false })
    else if (answer.answer === 'never' && answer.block) block(keyName, client)
    return answer.answer === 'once'
  }

  function thirdParty(req: RpcRequest): string | Reply {
    const [peer, text] = req.params
    if (!HEX64.test(peer ?? '')) return fail(`${req.method} needs a hex pubkey as its first param`)
    if (typeof text !== 'string') return fail(`${req.method} needs a text as its second param`)
    return peer
  }

  function perform(identity: Identity, client: string, req: RpcRequest, template: Template | undefined): Reply {
    const { sk, pubkey } = identity
    switch (req.method) {
      case 'get_public_key':
        return { result: pubkey }
      case 'ping':
        return { result: 'pong' }
      case 'switch_relays': {
        const relays = deps.relays()
        return { result: relays.length > 0 ? JSON.stringify(relays) : 'null' }
      }
      case 'logout': {
        const user = state.userFor(identity.name, client)
        if (user) {
          dropPermissions(state, user.id)
          state.remove('user', user.id)
        }
        return ACK
      }
      case 'sign_event': {
        const t = template!
        return { result: JSON.stringify(signEvent({ kind: t.kind, content: t.content, tags: t.tags, created_at: t.created_at ?? nowSeconds() }, sk, pubkey)) }
      }
      default: {
        const peer = thirdParty(req)
        if (typeof peer !== 'string') return peer
        const scheme = req.method.startsWith('nip04') ? 'nip04' : 'nip44'
        const text = req.params[1]
        try {
          return {
            result: req.method.endsWith('encrypt') ? deps.cipher.encrypt(scheme, sk, pubkey, peer, text) : deps.cipher.decrypt(scheme, sk, pubkey, peer, text),
          }
        } catch {
          return fail(`${req.method} failed: the payload could not be processed`)
        }
      }
    }
  }

  /** Asks the admins about a request no permission covers, then performs it if they allow. */
  async function askThenPerform(inbound: Inbound, req: RpcRequest, user: KeyUser | undefined, template: Template | undefined): Promise<Reply> {
    const { identity } = inbound
    const client = inbound.event.pubkey
    const q = { keyName: identity.name, remotePubkey: client, method: req.method, param: req.params[0], description: user?.description, kind: template?.kind }
    const r = await deps.approvals.ask(
      q,
      (answer) => ({
        answer: answer.answer,
        allowed: applyAnswer(answer, state.userFor(identity.name, client), identity.name, client, req.method, template?.kind),
      }),
      authUrl(inbound, req),
    )
    if (r === 'full') return fail(APPROVALS_FULL)
    if (r === 'retry') return handle(inbound, req) // an "always" may cover it now; else it asks in turn
    if (r === 'refused') return fail('not authorized: no admin approved this request')
    void commit()
    if (!r.asked.allowed) return fail(r.asked.answer === 'timeout' ? 'not authorized: no admin approved this request' : `${req.method} not authorized`)
    touch(state.userFor(identity.name, client))
    return perform(identity, client, req, template)
  }

  /** Synchronous unless a connect or an admin's approval has to be waited for. */
  function handle(inbound: Inbound, req: RpcRequest): Reply | Promise<Reply> {
    if (!METHODS.has(req.method)) return fail(`Unknown method ${req.method}`)
    if (req.method === 'connect') return connect(inbound, req)
    const { identity } = inbound
    const client = inbound.event.pubkey
    let template: Template | undefined
    if (req.method === 'sign_event') {
      const t = parseTemplate(req.params[0])
      if (typeof t === 'string') return fail(t)
      template = t
    }
    const user = state.userFor(identity.name, client)
    const d = decide(state, user, req.method, template?.kind, Date.now())
    if (d.decision === 'deny') return fail(d.reason)
    if (d.decision === 'ask') return askThenPerform(inbound, req, user, template)
    touch(user)
    if (d.perm) {
      consume(state, d.perm)
      // A limited permission's count is what enforces the limit: it is on disk before the reply can
      // leave, so a crash right after a reply cannot hand the use back.
      if (d.perm.maxUsage !== null) return state.commit().then(() => perform(identity, client, req, template))
      commitSoon()
    }
    return perform(identity, client, req, template)
  }

  return (identity, event) => {
    const inbound = channel.open(identity, event)
    if (!inbound || inbound.msg.type === 'response') return // a signer receives requests only
    const user = state.userFor(identity.name, event.pubkey)
    if (!channel.admit(inbound, user && user.revokedAt === null ? 'known' : 'stranger')) return
    if (inbound.msg.type === 'invalid') return channel.answerInvalid(inbound)
    const req = inbound.msg.req
    // metric labels come from the known method set only
    channel.respond(inbound, METHODS.has(req.method) ? req.method : 'other', () => handle(inbound, req))
  }
}
