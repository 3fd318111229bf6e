// NIP-11 relay information document, its `limitation` taken from the limits really in force.
import { readFileSync } from 'node:fs'
import type { Limits } from './limits.ts'

export interface RelayInfo {
  name: string
  description: string
  pubkey?: string
  contact?: string
  icon?: string
  /** NIP-11: the URL of the software's project. */
  software: string
  version: string
  /** Extra NIPs a plugin implements (the bunker adds 46). */
  extraNips?: number[]
}

const NIPS = [1, 9, 11, 40, 42, 45, 70]

/** Name, release and project URL, read once from package.json: the defaults of every relay's document. */
export const packageInfo: Pick<RelayInfo, 'name' | 'software' | 'version'> = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string; homepage: string }
  return { name: pkg.name, software: pkg.homepage, version: pkg.version }
})()

/** What a relay adds to its document: fields of its own, and `limitation` entries its settings decide. */
export interface Nip11Extra {
  fields?: Record<string, unknown>
  limitation?: Record<string, unknown>
}

export function infoDocument(info: RelayInfo, limits: Limits, extra: Nip11Extra = {}): Record<string, unknown> {
  return {
    name: info.name,
    description: info.description,
    ...(info.pubkey ? { pubkey: info.pubkey } : {}),
    ...(info.contact ? { contact: info.contact } : {}),
    ...(info.icon ? { icon: info.icon } : {}),
    software: info.software,
    version: info.version,
    supported_nips: [...new Set([...NIPS, ...(info.extraNips ?? [])])].sort((a, b) => a - b),
    limitation: {
      max_message_length: limits.maxMessageBytes,
      max_subscriptions: limits.maxSubscriptions,
      max_filters: limits.maxFilters,
      max_limit: limits.maxLimit,
      default_limit: limits.defaultLimit,
      max_subid_length: 64,
      max_event_tags: limits.maxEventTags,
      ...(limits.maxPastSeconds > 0 ? { created_at_lower_limit: limits.maxPastSeconds } : {}),
      created_at_upper_limit: limits.maxFutureSeconds,
      auth_required: false,
      payment_required: false,
      restricted_writes: false,
      ...extra.limitation,
    },
    ...extra.fields,
  }
}
