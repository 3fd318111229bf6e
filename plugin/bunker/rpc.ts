// The NIP-46 envelope: {id, method, params} requests and {id, result, error?} responses, JSON inside
// an encrypted kind 24133 (or 24134) event.
import { z } from 'zod'

export interface RpcRequest {
  id: string
  method: string
  params: string[]
}

export interface RpcResponse {
  id: string
  result: string
  error?: string
}

/**
 * What a handler answers: a result string, or an error message. `outcome: 'error'` marks a result
 * that reports a failure in its own shape (unlock_key's `{"success":false}`) for logs and metrics.
 */
export type Reply = { result: string; outcome?: 'error' } | { error: string }

/**
 * Params arrive as strings per NIP-46, but some admin clients send numbers or objects: stringify
 * them. The nsecbunker admin UI sends an unset optional param (create_new_token's duration) as
 * null: that is an absent param, "".
 */
const param = z.union([
  z.string(),
  z.number().transform(String),
  z.null().transform(() => ''),
  z.record(z.string(), z.unknown()).transform((o) => JSON.stringify(o)),
])
const MAX_ID = 128
const requestSchema = z.object({ id: z.string().min(1).max(MAX_ID), method: z.string().min(1).max(64), params: z.array(param).default([]) })
const responseSchema = z.object({ id: z.string().min(1).max(MAX_ID), result: z.string().optional(), error: z.string().optional() })

export type Message = { type: 'request'; req: RpcRequest } | { type: 'response'; res: RpcResponse } | { type: 'invalid'; id?: string; reason: string }

/** Objects and arrays nested deeper than this in a message are refused (stringifying them recurses). */
export const MAX_DEPTH = 32

/** True when `v` nests objects or arrays more than `max` levels deep; iterative, so any depth is safe. */
export function nestedDeeperThan(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]]
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!
    if (typeof x !== 'object' || x === null) continue
    if (depth >= max) return true
    for (const child of Array.isArray(x) ? x : Object.values(x)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
  }
  return false
}

export function parseMessage(text: string): Message {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { type: 'invalid', reason: 'not JSON' }
  }
  const rawId = (raw as { id?: unknown })?.id
  // an id too long to be one is not echoed back
  const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_ID ? rawId : undefined
  if (nestedDeeperThan(raw, MAX_DEPTH)) return { type: 'invalid', id, reason: `nested more than ${MAX_DEPTH} levels deep` }
  if (typeof raw === 'object' && raw !== null && 'method' in raw) {
    const r = requestSchema.safeParse(raw)
    return r.success ? { type: 'request', req: r.data } : { type: 'invalid', id, reason: 'malformed request' }
  }
  const r = responseSchema.safeParse(raw)
  return r.success
    ? { type: 'response', res: { id: r.data.id, result: r.data.result ?? '', error: r.data.error } }
    : { type: 'invalid', id, reason: 'malformed message' }
}

/** Every error reply carries a string result (Nostrify rejects a missing one) and the message. */
export function responseJson(id: string, reply: Reply): string {
  return 'error' in reply ? JSON.stringify({ id, result: 'error', error: reply.error }) : JSON.stringify({ id, result: reply.result })
}

export const requestJson = (id: string, method: string, params: string[]): string => JSON.stringify({ id, method, params })
