// Admin sessions of the approval page: random ids in an HttpOnly, SameSite=Strict cookie, each with
// a bounded life, at most `max` at once (the oldest is dropped first). Only an admin (NIP-98) or the
// holder of a login link from the log can make one, so a stranger cannot fill them.
import { randomBytes } from 'node:crypto'

export interface Session {
  id: string
  /** An admin's pubkey (hex), or "login-link". */
  by: string
  expiresAt: number
}

export interface Sessions {
  create(by: string, now?: number): Session
  get(id: string | undefined, now?: number): Session | undefined
  readonly size: number
}

export function createSessions(max: number, lifeMs: number): Sessions {
  const sessions = new Map<string, Session>() // insertion order: oldest first
  const sweep = (now: number) => {
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id)
  }
  return {
    create(by, now = Date.now()) {
      sweep(now)
      while (sessions.size >= max) sessions.delete(sessions.keys().next().value!)
      const s = { id: randomBytes(16).toString('base64url'), by, expiresAt: now + lifeMs }
      sessions.set(s.id, s)
      return s
    },
    get(id, now = Date.now()) {
      const s = id === undefined ? undefined : sessions.get(id)
      if (!s || s.expiresAt > now) return s
      sessions.delete(s.id)
      return undefined
    },
    get size() {
      return sessions.size
    },
  }
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
