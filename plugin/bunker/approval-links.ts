// The approval page's side of an acl question (issue 11): each open question gets a 128-bit id and a
// URL the client is sent as `auth_url`. The page reads the question here and answers it here; the
// answer goes to the same settle function an admin's acl reply reaches, so whichever comes first
// wins and the other finds nothing pending. Finished ids are remembered (bounded) so a late visit
// can say "already decided" or "expired" rather than "unknown".
import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { AclAnswer, AclQuestion } from './approvals.ts'

/** The page's buttons: once / always for this kind / always (the method, any kind) / deny / deny always. */
export const PAGE_DECISIONS = ['once', 'always_kind', 'always', 'deny', 'deny_always'] as const
export type PageDecision = (typeof PAGE_DECISIONS)[number]

export interface PendingApproval {
  /** 32 hex digits (128 bits from crypto.randomBytes). */
  id: string
  url: string
  keyName: string
  /** The key's pubkey (hex), when the key is known. */
  keyPubkey?: string
  client: string
  method: string
  kind?: number
  /** params[0]: sign_event's template, the peer of encrypt/decrypt. Shown, never parsed here. */
  param?: string
  /** connect's permissions (params[2]) and client metadata JSON (params[3]). */
  perms?: string
  metadata?: string
  /** The known client's description (its token's client name, or an admin's). */
  description?: string | null
  createdAt: number
  expiresAt: number
}

export type ApprovalStatus = 'pending' | 'decided' | 'expired' | 'unknown'

export interface ApprovalLinks {
  readonly expiryMs: number
  get(id: string): PendingApproval | undefined
  status(id: string): ApprovalStatus
  /** Pending approvals, oldest first. */
  list(): PendingApproval[]
  /**
   * Answers a pending approval as `by` (an admin pubkey, or "login-link"), audits it, and commits
   * the answer's effects; false when it is no longer pending (decided, expired or unknown).
   */
  decide(id: string, decision: PageDecision, by: string): Promise<boolean>
  /** For approvals.ts: a new question gets a page; `settle` is the question's own settle function. */
  open(q: AclQuestion, settle: (a: AclAnswer) => void): PendingApproval
  /** For approvals.ts: the question is settled (by anyone) or timed out; its page is void. */
  close(id: string, how: 'decided' | 'expired'): void
}

export interface ApprovalLinksDeps {
  /** Public base URL of the page, http(s), without a trailing slash; read when a question opens. */
  baseUrl: () => string
  expiryMs: number
  /** Finished ids remembered for a 410 answer (bounded by a multiple of the pending cap). */
  rememberFinished: number
  keyPubkey: (keyName: string) => string | undefined
  audit: (entry: Record<string, unknown>) => void
  commit: () => Promise<void>
  /** Told about each new pending approval (the web side logs it and may print a login link). */
  announce?: (a: PendingApproval) => void
}

/** What each button means, in the acl's own answers; `description` names the client when it says who it is. */
export function answerFor(decision: PageDecision, a: PendingApproval): AclAnswer {
  switch (decision) {
    case 'once':
      return { answer: 'once' }
    case 'always_kind':
      return { answer: 'always', description: clientName(a), kind: a.kind }
    case 'always':
      return { answer: 'always', description: clientName(a), kind: 'all' }
    case 'deny':
      return { answer: 'deny' }
    case 'deny_always':
      return { answer: 'never', block: true }
  }
}

/** The name a client gave in connect's metadata, if any, cut to a sane length. */
export function clientMetadata(a: Pick<PendingApproval, 'metadata'>): { name?: string; url?: string } {
  if (!a.metadata) return {}
  try {
    const m = JSON.parse(a.metadata) as { name?: unknown; url?: unknown }
    return {
      name: typeof m.name === 'string' && m.name ? m.name.slice(0, 100) : undefined,
      url: typeof m.url === 'string' && m.url ? m.url.slice(0, 300) : undefined,
    }
  } catch {
    return {}
  }
}

const clientName = (a: PendingApproval): string | undefined => clientMetadata(a).name

export function createApprovalLinks(deps: ApprovalLinksDeps): ApprovalLinks {
  const pending = new Map<string, { approval: PendingApproval; settle: (a: AclAnswer) => void }>()
  const finished = new LRUCache<string, 'decided' | 'expired'>({ max: Math.max(1, deps.rememberFinished) })

  return {
    expiryMs: deps.expiryMs,
    get: (id) => pending.get(id)?.approval,
    status(id) {
      if (pending.has(id)) return 'pending'
      return finished.get(id) ?? 'unknown'
    },
    list: () => [...pending.values()].map((p) => p.approval),
    async decide(id, decision, by) {
      const p = pending.get(id)
      if (!p) return false
      const { approval: a } = p
      deps.audit({ at: Date.now(), event: 'approval_decided', via: 'page', key: a.keyName, client: a.client, method: a.method, kind: a.kind, decision, by })
      p.settle(answerFor(decision, a)) // closes this page through close() before it returns
      await deps.commit()
      return true
    },
    open(q, settle) {
      const id = randomBytes(16).toString('hex')
      const now = Date.now()
      const approval: PendingApproval = {
        id,
        url: `${deps.baseUrl()}/approve/${id}`,
        keyName: q.keyName,
        keyPubkey: deps.keyPubkey(q.keyName),
        client: q.remotePubkey,
        method: q.method,
        kind: q.kind,
        param: q.method === 'connect' ? undefined : q.param,
        perms: q.method === 'connect' ? q.param : undefined,
        metadata: q.metadata,
        description: q.description,
        createdAt: now,
        expiresAt: now + deps.expiryMs,
      }
      pending.set(id, { approval, settle })
      deps.announce?.(approval)
      return approval
    },
    close(id, how) {
      const p = pending.get(id)
      if (!p) return
      pending.delete(id)
      finished.set(id, how)
      const { approval: a } = p
      if (how === 'expired') deps.audit({ at: Date.now(), event: 'approval_expired', key: a.keyName, client: a.client, method: a.method, kind: a.kind })
    },
  }
}
