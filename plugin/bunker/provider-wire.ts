// Requests to an account key that arrive encrypted to the provider. nostr-tools' createAccount keeps
// the signer it sent create_account with and only changes the pubkey it p-tags: its connect and
// every later request go to the new key, encrypted under the provider's conversation key, and it
// listens for replies authored by the provider. So for the client that created the key, such a
// request is opened with the provider's key, handled as the account key (acl, signing) and answered
// as the provider: in NIP-46 terms the provider is the remote signer and the key the user.
import type { NostrEvent } from '../../relay/relay.ts'
import type { Channel, Identity, Inbound } from './channel.ts'
import { schemeOf, type Cipher } from './crypto.ts'

type OnRequest = (identity: Identity, event: NostrEvent) => void

/** A channel that reads and answers with the provider's key; handlers still see the user key. */
export function providerWire(channel: Channel, provider: () => Identity): Channel {
  // named after the user key, so the request and reply log lines say which key was used
  const wire = (user: Identity): Identity => ({ name: user.name, sk: provider().sk, pubkey: provider().pubkey })
  const onWire = (inbound: Inbound): Inbound => ({ ...inbound, identity: wire(inbound.identity) })
  return {
    open(identity, event) {
      const inbound = channel.open(wire(identity), event)
      return inbound && { ...inbound, identity }
    },
    admit: (inbound, trust) => channel.admit(onWire(inbound), trust),
    answer: (inbound, method, reply) => channel.answer(onWire(inbound), method, reply),
    respond: (inbound, method, run) => channel.respond(onWire(inbound), method, run),
    answerInvalid: (inbound) => channel.answerInvalid(onWire(inbound)),
    send: channel.send,
  }
}

/**
 * The keyring's request handler: `viaProvider` for a key's creator writing under the provider's
 * conversation key, `direct` for everything else. Only creators pay the trial decryption.
 */
export function routeRequests(opts: {
  direct: OnRequest
  viaProvider: OnRequest
  cipher: Cipher
  provider: () => Identity
  /** The client that created this key, if create_account did. */
  creatorOf: (key: Identity) => string | undefined
}): OnRequest {
  const readableByProvider = (event: NostrEvent): boolean => {
    const p = opts.provider()
    try {
      opts.cipher.decrypt(schemeOf(event.content), p.sk, p.pubkey, event.pubkey, event.content)
      return true
    } catch {
      return false
    }
  }
  return (identity, event) => {
    if (opts.creatorOf(identity) === event.pubkey && readableByProvider(event)) return opts.viaProvider(identity, event)
    opts.direct(identity, event)
  }
}
