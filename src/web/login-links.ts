// One-time login links for the approval page, printed in the log when an approval is pending. At
// most one is live at a time: a new one is made only when the last was used or has expired, which
// bounds both what the process holds and how many login secrets the log shows.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export interface LoginLinks {
  /** A new token, or undefined while another is live. `next`: the approval to go to after login. */
  mint(next: string | undefined, now?: number): string | undefined
  /** True when the token is live (does not use it). */
  live(token: string, now?: number): boolean
  /** Uses the token up: the approval to go to, or undefined when the token is not live. */
  redeem(token: string, now?: number): { next?: string } | undefined
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest()

export function createLoginLinks(lifeMs: number): LoginLinks {
  let current: { hash: Buffer; next?: string; expiresAt: number } | undefined
  const matches = (token: string, now: number): boolean => current !== undefined && current.expiresAt > now && timingSafeEqual(current.hash, digest(token))
  return {
    mint(next, now = Date.now()) {
      if (current && current.expiresAt > now) return undefined
      const token = randomBytes(16).toString('base64url')
      current = { hash: digest(token), next, expiresAt: now + lifeMs }
      return token
    },
    live: (token, now = Date.now()) => matches(token, now),
    redeem(token, now = Date.now()) {
      if (!matches(token, now)) return undefined
      const next = current!.next
      current = undefined
      return { next }
    },
  }
}
