// Relays linked to a key by a nostrconnect:// URI (the client listens there, so the key must too),
// remembered across restarts in a named database of the relay's LMDB environment.
import type { Database, RootDatabase } from 'lmdb'

export interface LinkStore {
  all(): Array<{ pubkey: string; urls: string[] }>
  set(pubkey: string, urls: string[]): Promise<void>
  remove(pubkey: string): Promise<void>
}

export function openLinkStore(env: RootDatabase): LinkStore {
  const db: Database<string[], string> = env.openDB({ name: 'bridge-links' })
  return {
    all: () => [...db.getRange()].map(({ key, value }) => ({ pubkey: key, urls: value })),
    set: (pubkey, urls) => db.put(pubkey, urls).then(() => undefined),
    remove: (pubkey) => db.remove(pubkey).then(() => undefined),
  }
}

/** One spelling per relay: lower-case scheme and host, no trailing slash, no fragment. */
export function normaliseRelayUrl(text: string): string | undefined {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return undefined
  }
  if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || !u.hostname || u.username || u.password) return undefined
  u.hash = ''
  const s = u.href
  return s.endsWith('/') && u.pathname === '/' && !u.search ? s.slice(0, -1) : s
}
