// CSRF tokens for the approval page's decision form: an HMAC of (session, approval) under a key made
// at start. Nothing is stored per token, so there is nothing to bound; a token is useless for any
// other session or approval, and the approval itself is single use.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export interface Csrf {
  token(sessionId: string, approvalId: string): string
  check(sessionId: string, approvalId: string, token: string): boolean
}

export function createCsrf(key: Buffer = randomBytes(32)): Csrf {
  const token = (sessionId: string, approvalId: string): string => createHmac('sha256', key).update(`${sessionId}\n${approvalId}`).digest('base64url')
  return {
    token,
    check(sessionId, approvalId, given) {
      const want = Buffer.from(token(sessionId, approvalId))
      const got = Buffer.from(given)
      return got.length === want.length && timingSafeEqual(got, want)
    },
  }
}
