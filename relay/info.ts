// NIP-11 relay information document, its `limitation` taken from the limits really in force.
import type { Limits } from './limits.ts'

export interface RelayInfo {
  name: string
  description: string
  pubkey?: string
  contact?: string
  software: string
  version: string
  /** Extra NIPs a plugin implements (the bunker adds 46). */
  extraNips?: number[]
}

const NIPS = [1, 9, 11, 40, 42, 45, 70]

export function infoDocument(info: RelayInfo, limits: Limits, authRequired: boolean): Record<string, unknown> {
  return {
    name: info.name,
    description: info.description,
    ...(info.pubkey ? { pubkey: info.pubkey } : {}),
    ...(info.contact ? { contact: info.contact } : {}),
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
      auth_required: authRequired,
      payment_required: false,
      restricted_writes: false,
    },
  }
}
