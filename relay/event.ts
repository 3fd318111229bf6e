// Event shape checks and tag readers (NIP-01, NIP-40, NIP-70). Signature and id checks live in
// verify.ts so that this module stays pure and cheap; kind classes live in kinds.ts.

export interface NostrEvent {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

const HEX = /^[0-9a-f]+$/

export function isHex(s: unknown, length: number): boolean {
  return typeof s === 'string' && s.length === length && HEX.test(s)
}

/** First value of the first tag named `name`, or undefined. */
export function tagValue(event: NostrEvent, name: string): string | undefined {
  for (const tag of event.tags) if (tag[0] === name) return tag[1]
  return undefined
}

/** The `d` identifier of an addressable event ("" when absent, as NIP-01 says). */
export const dTag = (event: NostrEvent): string => tagValue(event, 'd') ?? ''

/** NIP-40 expiration timestamp, or 0 when the event does not expire. */
export function expiration(event: NostrEvent): number {
  const v = tagValue(event, 'expiration')
  if (v === undefined) return 0
  const n = Number(v)
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}

/** NIP-70: the event carries the `["-"]` tag. */
export function isProtected(event: NostrEvent): boolean {
  for (const tag of event.tags) if (tag.length === 1 && tag[0] === '-') return true
  return false
}

/**
 * Structural check of a parsed EVENT payload. Returns a NIP-01 "invalid:" reason, or undefined
 * when the object has the exact shape of an event (the id/sig are checked later, at higher cost).
 */
export function shapeError(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'invalid: event is not an object'
  const ev = e as Record<string, unknown>
  if (!isHex(ev.id, 64)) return 'invalid: id must be 64 lowercase hex characters'
  if (!isHex(ev.pubkey, 64)) return 'invalid: pubkey must be 64 lowercase hex characters'
  if (!isHex(ev.sig, 128)) return 'invalid: sig must be 128 lowercase hex characters'
  if (!Number.isSafeInteger(ev.created_at) || (ev.created_at as number) < 0) return 'invalid: created_at must be a non-negative integer'
  if (!Number.isSafeInteger(ev.kind) || (ev.kind as number) < 0 || (ev.kind as number) > 65535) return 'invalid: kind must be an integer between 0 and 65535'
  if (typeof ev.content !== 'string') return 'invalid: content must be a string'
  if (!Array.isArray(ev.tags)) return 'invalid: tags must be an array'
  for (const tag of ev.tags) {
    if (!Array.isArray(tag)) return 'invalid: every tag must be an array'
    for (const item of tag) if (typeof item !== 'string') return 'invalid: tag items must be strings'
  }
  return undefined
}
