// NIP-89: the provider announces itself as a NIP-46 handler (kind 31990, ["k", "24133"]), one event
// per domain it serves names on, so nostr-tools' fetchBunkerProviders lists it. It checks the
// content's nip05 (`_@domain`) against the event's author, which /.well-known/nostr.json answers.
import type { NostrEvent } from '../../relay/relay.ts'
import type { Identity, Log, RelayHost } from './channel.ts'
import { PROVIDER_NAME } from './account-names.ts'
import { nowSeconds } from './channel.ts'
import { NIP46_KIND } from './keyring.ts'
import { signEvent } from './sign.ts'

export const HANDLER_KIND = 31990

export interface HandlerProfile {
  name: string
  picture?: string
  about?: string
}

export function handlerEvent(provider: Identity, profile: HandlerProfile, domain: string, createdAt = nowSeconds()): NostrEvent {
  const content = JSON.stringify({
    name: profile.name,
    nip05: `${PROVIDER_NAME}@${domain}`,
    ...(profile.picture ? { picture: profile.picture } : {}),
    ...(profile.about ? { about: profile.about } : {}),
  })
  const tags = [
    ['d', domain],
    ['k', String(NIP46_KIND)],
  ]
  return signEvent({ kind: HANDLER_KIND, created_at: createdAt, tags, content }, provider.sk, provider.pubkey)
}

/**
 * Publishes the handler events through the relay's pipeline (stored, and seen by whatever forwards
 * local events upstream). Each start publishes anew: an addressable event replaces the older one.
 */
export async function announceProvider(relay: RelayHost, provider: Identity, profile: HandlerProfile, domains: readonly string[], log: Log): Promise<void> {
  for (const domain of domains) {
    const out = await relay.publish(handlerEvent(provider, profile, domain), { type: 'local', plugin: 'bunker' }, { signedHere: true })
    if (!out.ok && !out.message.startsWith('duplicate:')) log.warn({ domain, reason: out.message }, 'NIP-89 handler event refused by the relay')
  }
}
