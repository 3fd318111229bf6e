// The unlocked keys and their places in the relay's dispatch table. register() subscribes the key's
// filter synchronously: once it returns, any request addressed to the key is delivered. Callers
// register before they publish the reply that tells a client the key exists; that order is the
// whole race-freedom guarantee.
import type { NostrEvent, SubscriptionHandle } from '../../relay/relay.ts'
import type { Identity, RelayHost } from './channel.ts'
import { publicKeyOf } from './sign.ts'

export const NIP46_KIND = 24133

export interface Keyring {
  register(name: string, sk: Uint8Array): Identity
  unregister(name: string): void
  get(name: string): Identity | undefined
  byPubkey(pubkey: string): Identity | undefined
  readonly size: number
}

export function createKeyring(relay: RelayHost, onRequest: (identity: Identity, event: NostrEvent) => void): Keyring {
  const byName = new Map<string, { identity: Identity; handle: SubscriptionHandle }>()
  const byPk = new Map<string, Identity>()
  return {
    register(name, sk) {
      const existing = byName.get(name)
      if (existing) return existing.identity
      const identity: Identity = { name, sk, pubkey: publicKeyOf(sk) }
      const handle = relay.subscribe([{ kinds: [NIP46_KIND], '#p': [identity.pubkey] }], (event) => onRequest(identity, event))
      byName.set(name, { identity, handle })
      byPk.set(identity.pubkey, identity)
      return identity
    },
    unregister(name) {
      const entry = byName.get(name)
      if (!entry) return
      entry.handle.close()
      byName.delete(name)
      byPk.delete(entry.identity.pubkey)
    },
    get: (name) => byName.get(name)?.identity,
    byPubkey: (pk) => byPk.get(pk),
    get size() {
      return byName.size
    },
  }
}
