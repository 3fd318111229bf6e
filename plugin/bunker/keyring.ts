// The unlocked keys and their places in the relay's dispatch table. register() subscribes the key's
// filter synchronously: once it returns, any request addressed to the key is delivered. Callers
// register before they publish the reply that tells a client the key exists; that order is the
// whole race-freedom guarantee. Listeners hear of each registration synchronously, inside
// register(), so they too act before the announcing reply exists (the relay bridge opens the key's
// subscriptions upstream from there).
import type { NostrEvent, SubscriptionHandle } from '../../relay/relay.ts'
import type { Identity, RelayHost } from './channel.ts'
import { publicKeyOf } from './sign.ts'

export const NIP46_KIND = 24133

/** A registered key as listeners see it: no secret. */
export type KeyRef = Pick<Identity, 'name' | 'pubkey'>

/** Hears of registrations as they happen; must not throw (a throw is ignored). */
export interface KeyringListener {
  registered(key: KeyRef): void
  unregistered(key: KeyRef): void
}

export interface Keyring {
  register(name: string, sk: Uint8Array): Identity
  unregister(name: string): void
  get(name: string): Identity | undefined
  byPubkey(pubkey: string): Identity | undefined
  /** Every registered key, for a listener that joins late. */
  list(): KeyRef[]
  /** Adds a listener; returns its removal. */
  listen(listener: KeyringListener): () => void
  readonly size: number
}

export function createKeyring(relay: RelayHost, onRequest: (identity: Identity, event: NostrEvent) => void): Keyring {
  const byName = new Map<string, { identity: Identity; handle: SubscriptionHandle }>()
  const byPk = new Map<string, Identity>()
  const listeners = new Set<KeyringListener>()
  const tell = (what: keyof KeyringListener, identity: Identity) => {
    for (const l of listeners)
      try {
        l[what]({ name: identity.name, pubkey: identity.pubkey })
      } catch {}
  }
  return {
    register(name, sk) {
      const existing = byName.get(name)
      if (existing) return existing.identity
      const identity: Identity = { name, sk, pubkey: publicKeyOf(sk) }
      const handle = relay.subscribe([{ kinds: [NIP46_KIND], '#p': [identity.pubkey] }], (event) => onRequest(identity, event))
      byName.set(name, { identity, handle })
      byPk.set(identity.pubkey, identity)
      tell('registered', identity)
      return identity
    },
    unregister(name) {
      const entry = byName.get(name)
      if (!entry) return
      entry.handle.close()
      byName.delete(name)
      byPk.delete(entry.identity.pubkey)
      tell('unregistered', entry.identity)
    },
    get: (name) => byName.get(name)?.identity,
    byPubkey: (pk) => byPk.get(pk),
    list: () => [...byPk.values()].map((i) => ({ name: i.name, pubkey: i.pubkey })),
    listen(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    get size() {
      return byName.size
    },
  }
}
