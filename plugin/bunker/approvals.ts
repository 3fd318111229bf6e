// Asking the admins about an unknown client: an `acl` request goes to every admin on kind 24134,
// and the first answer wins: ["always", description?, {kind: "<n>" | "all"}], ["once"] or ["never"].
// With the approval page on (approval-links.ts), the question also gets a page whose URL the asking
// request is sent as `auth_url`; the page's answer settles the same question, and whichever answer
// comes first wins. No answer within the timeout is a refusal.
//
// One question per (key, client) at a time, so a client cannot flood the admins with prompts: its
// later requests wait behind the open question. When the admin answers "always" or "once" they are
// released to decide again (an "always" may now cover them; if not, the next one asks, again one
// at a time), as they are by the page's "deny" (of that one request); "never" or no answer refuses
// them with the first. The questions and the requests waiting behind them are capped in total, and
// per question.
import { randomBytes } from 'node:crypto'
import type { ApprovalLinks } from './approval-links.ts'
import type { Channel, Identity } from './channel.ts'
import type { Scheme } from './crypto.ts'
import { requestJson, type RpcResponse } from './rpc.ts'
import type { WireStats } from './wire.ts'

export const ADMIN_KIND = 24134

export interface AclQuestion {
  keyName: string
  remotePubkey: string
  method: string
  param?: string
  description?: string | null
  /** sign_event's kind, for the page (the acl question sends the template as `param`). */
  kind?: number
  /** connect's client metadata JSON (params[3]), for the page. */
  metadata?: string
}

/**
 * `never`: a stored denial for a known client (and with `block`, from the page's "deny always", a
 * client the key does not know yet is stored as revoked). `deny` (the page's "deny"): this request
 * only, nothing stored.
 */
export type AclAnswer =
  | { answer: 'always'; description?: string; kind?: number | 'all' }
  | { answer: 'once' }
  | { answer: 'never'; block?: boolean }
  | { answer: 'deny' }
  | { answer: 'timeout' }

/** How unknown clients are approved: acl questions to the admins, the page, or both at once. */
export type ApprovalMode = 'acl' | 'page' | 'both'

/**
 * `asked`: this request was the question, and `apply` ran with the answer. `retry`: it waited on
 * another request's question, answered "always" or "once": decide again. `refused`: that question
 * was answered "never" or not at all. `full`: too many requests wait on the admins already.
 */
export type AskResult<T> = { asked: T } | 'retry' | 'refused' | 'full'

export interface Approvals {
  /**
   * `apply` runs with the answer before any request waiting on the same (key, client) is released.
   * `authUrl` is called (synchronously, at most once) when this request's question got a page.
   */
  ask<T>(q: AclQuestion, apply: (a: AclAnswer) => T, authUrl?: (url: string) => void): Promise<AskResult<T>>
  /** Routes an admin's response; returns false when it answers no pending question. */
  settle(res: RpcResponse): boolean
}

/** Requests that may wait behind one open question; the total is capped by `maxPending`. */
const WAITERS_PER_QUESTION = 32

function parseAnswer(result: string): AclAnswer | undefined {
  let v: unknown
  try {
    v = JSON.parse(result)
  } catch {
    return undefined
  }
  if (!Array.isArray(v)) return undefined
  if (v[0] === 'once' || v[0] === 'never') return { answer: v[0] }
  if (v[0] !== 'always') return undefined
  const kindText = (v[2] as { kind?: unknown } | undefined)?.kind
  const kind = kindText === 'all' ? 'all' : kindText !== undefined && Number.isSafeInteger(Number(kindText)) ? Number(kindText) : undefined
  return { answer: 'always', description: typeof v[1] === 'string' && v[1] ? v[1] : undefined, kind }
}

export function createApprovals(opts: {
  channel: Channel
  admin: () => Identity
  admins: () => string[]
  /** The scheme each admin last spoke, so the question is one it can read. */
  schemeOf: (admin: string) => Scheme
  timeoutMs: number
  /** Questions and the requests waiting behind them, in total. */
  maxPending: number
  stats?: WireStats
  /** Answer every question "always", for every kind, without asking anyone. */
  autoApprove?: boolean
  /** acl (default): questions to the admins; page: a page only; both: either may answer. */
  mode?: ApprovalMode
  /** The page's side; required unless the mode is acl. Its expiry replaces `timeoutMs`. */
  links?: ApprovalLinks
}): Approvals {
  const links = opts.mode === 'page' || opts.mode === 'both' ? opts.links : undefined
  const askAdmins = opts.mode !== 'page' || !links
  const timeoutMs = links ? links.expiryMs : opts.timeoutMs
  const byId = new Map<string, (a: AclAnswer) => void>()
  const byPair = new Map<string, Array<(r: 'retry' | 'refused') => void>>()
  let pending = 0
  if (opts.stats) opts.stats.gauges.pendingApprovals = () => pending
  const full = (): 'full' => {
    if (opts.stats) opts.stats.refused.approvals_full++
    return 'full'
  }

  function question<T>(q: AclQuestion, pair: string, apply: (a: AclAnswer) => T, authUrl?: (url: string) => void): Promise<AskResult<T>> {
    const waiters: Array<(r: 'retry' | 'refused') => void> = []
    byPair.set(pair, waiters)
    pending++
    const id = randomBytes(8).toString('hex')
    const json = requestJson(id, 'acl', [
      JSON.stringify({ keyName: q.keyName, remotePubkey: q.remotePubkey, method: q.method, param: q.param, description: q.description ?? undefined }),
    ])
    return new Promise<AskResult<T>>((resolve, reject) => {
      const timer = setTimeout(() => done({ answer: 'timeout' }), timeoutMs)
      timer.unref() // a page's question may wait minutes: it must not hold a closing process open
      let pageId: string | undefined
      let settled = false
      const done = (a: AclAnswer) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        byId.delete(id)
        byPair.delete(pair)
        if (pageId !== undefined) links!.close(pageId, a.answer === 'timeout' ? 'expired' : 'decided')
        pending -= 1 + waiters.length
        try {
          resolve({ asked: apply(a) })
        } catch (err) {
          reject(err)
        }
        // a "deny" is about that one request: the others waiting behind it are asked in turn
        const release = a.answer === 'always' || a.answer === 'once' || a.answer === 'deny' ? 'retry' : 'refused'
        for (const w of waiters) w(release)
      }
      if (links) {
        const page = links.open(q, done)
        pageId = page.id
        authUrl?.(page.url)
      }
      if (!askAdmins) return
      byId.set(id, done)
      for (const admin of opts.admins()) void opts.channel.send(opts.admin(), admin, ADMIN_KIND, opts.schemeOf(admin), json)
    })
  }

  return {
    ask(q, apply, authUrl) {
      if (opts.autoApprove) return Promise.resolve({ asked: apply({ answer: 'always', kind: 'all' }) })
      // the page needs no admin pubkey: a login link from the log lets the operator in
      if (!links && opts.admins().length === 0) return Promise.resolve({ asked: apply({ answer: 'timeout' }) })
      if (pending >= opts.maxPending) return Promise.resolve(full())
      const pair = `${q.keyName}\n${q.remotePubkey}`
      const waiters = byPair.get(pair)
      if (!waiters) return question(q, pair, apply, authUrl)
      if (waiters.length >= WAITERS_PER_QUESTION) return Promise.resolve(full())
      pending++
      return new Promise((resolve) => waiters.push(resolve))
    },
    settle(res) {
      const resolve = byId.get(res.id)
      if (!resolve) return false
      const answer = parseAnswer(res.result)
      if (answer) resolve(answer)
      return answer !== undefined
    },
  }
}
