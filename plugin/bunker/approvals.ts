// Asking the admins about an unknown client: an `acl` request goes to every admin on kind 24134,
// and the first answer wins: ["always", description?, {kind: "<n>" | "all"}], ["once"] or ["never"].
// No answer within the timeout is a refusal.
import { randomBytes } from 'node:crypto'
import type { Channel, Identity } from './channel.ts'
import type { Scheme } from './crypto.ts'
import { requestJson, type RpcResponse } from './rpc.ts'

export const ADMIN_KIND = 24134

export interface AclQuestion {
  keyName: string
  remotePubkey: string
  method: string
  param?: string
  description?: string | null
}

export type AclAnswer = { answer: 'always'; description?: string; kind?: number | 'all' } | { answer: 'once' } | { answer: 'never' } | { answer: 'timeout' }

export interface Approvals {
  ask(q: AclQuestion): Promise<AclAnswer>
  /** Routes an admin's response; returns false when it answers no pending question. */
  settle(res: RpcResponse): boolean
}

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
  /** Answer every question "always", for every kind, without asking anyone. */
  autoApprove?: boolean
}): Approvals {
  const pending = new Map<string, (a: AclAnswer) => void>()
  return {
    ask(q) {
      if (opts.autoApprove) return Promise.resolve({ answer: 'always', kind: 'all' })
      const admins = opts.admins()
      if (admins.length === 0) return Promise.resolve({ answer: 'timeout' })
      const id = randomBytes(8).toString('hex')
      const json = requestJson(id, 'acl', [
        JSON.stringify({ keyName: q.keyName, remotePubkey: q.remotePubkey, method: q.method, param: q.param, description: q.description ?? undefined }),
      ])
      return new Promise<AclAnswer>((resolve) => {
        const timer = setTimeout(() => done({ answer: 'timeout' }), opts.timeoutMs)
        const done = (a: AclAnswer) => {
          clearTimeout(timer)
          pending.delete(id)
          resolve(a)
        }
        pending.set(id, done)
        for (const admin of admins) void opts.channel.send(opts.admin(), admin, ADMIN_KIND, opts.schemeOf(admin), json)
      })
    },
    settle(res) {
      const resolve = pending.get(res.id)
      if (!resolve) return false
      const answer = parseAnswer(res.result)
      if (answer) resolve(answer)
      return answer !== undefined
    },
  }
}
