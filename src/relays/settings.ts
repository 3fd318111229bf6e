// A hosted relay's record: who it is (NIP-11), whether it is on, and its settings. The settings are
// the LNbits nostrrelay extension's, one model for the registry and the importer
// (src/import/lnbits/settings.ts); the kind lists come from NIP-86.
import { type LnbitsRelaySettings, lnbitsLimits, normaliseLnbitsSettings, SNAKE, type SettingsResult } from '../import/lnbits/settings.ts'

export type RelaySettings = LnbitsRelaySettings

export interface RelayRecord {
  /** "" for the default relay at "/"; else served at /nostrrelay/<id>. */
  id: string
  /** Store key prefix (relay/store/table.ts); 0 for the default relay, which has databases of its own. */
  ks: number
  name: string
  description: string
  /** The operator's pubkey: hex when it is one (then also an admin of this relay). */
  pubkey: string
  contact: string
  icon: string
  active: boolean
  /** The LNbits user that owns it. */
  userId: string
  /** LNbits settings; the default relay has none (its limits and quota come from the config). */
  settings?: RelaySettings
  /** NIP-86 allowkind: when a list, only these kinds are accepted. */
  allowedKinds: number[] | null
  /** NIP-86 disallowkind of a kind not on the allow list. */
  deniedKinds: number[]
  createdAt: number
}

/** Relay ids are URL path segments (/nostrrelay/<id>): unreserved characters only, as the importer checks. */
export const RELAY_ID = /^[A-Za-z0-9._~-]{1,128}$/

export const relayPath = (id: string): string => (id === '' ? '/' : `/nostrrelay/${id}`)

export function relayIdOf(path: string): string | undefined {
  if (path === '/') return ''
  if (!path.startsWith('/nostrrelay/')) return undefined
  const id = path.slice('/nostrrelay/'.length)
  return RELAY_ID.test(id) ? id : undefined
}

/** A relay's URLs from the public base URLs ("/" of this server). */
export const relayUrls = (bases: string[], id: string): string[] => (id === '' ? bases : bases.map((b) => `${b.replace(/\/+$/, '')}/nostrrelay/${id}`))

/** LNbits' defaults, every key present. */
export function defaultSettings(): RelaySettings {
  const r = normaliseLnbitsSettings({})
  if (!r.ok) throw new Error(r.error)
  return r.settings
}

const CAMEL: Record<string, string> = Object.fromEntries(Object.entries(SNAKE).map(([camel, snake]) => [snake, camel]))

/**
 * Settings with a partial change applied. The change may use LNbits' stored names (snake_case) or its
 * API's (camelCase); as in LNbits the camelCase name wins when both are given.
 */
export function patchSettings(current: RelaySettings, patch: unknown): SettingsResult {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return { ok: false, error: 'settings must be a JSON object' }
  const input: Record<string, unknown> = { ...current }
  const entries = Object.entries(patch as Record<string, unknown>)
  const snake = (key: string) => key in CAMEL && CAMEL[key] !== key
  for (const [key, value] of entries) if (snake(key) && !(CAMEL[key] in (patch as object))) input[CAMEL[key]] = value
  for (const [key, value] of entries) if (!snake(key)) input[key] = value
  return normaliseLnbitsSettings(input)
}

/** The settings LNbits shows the public (its RelayPublicSpec, camelCase): NIP-11's `config`. */
export function publicConfig(s: RelaySettings): Record<string, unknown> {
  return {
    maxClientFilters: s.maxClientFilters,
    limitPerFilter: s.limitPerFilter,
    maxEventsPerHour: s.maxEventsPerHour,
    createdAtDaysPast: s.createdAtDaysPast,
    createdAtHoursPast: s.createdAtHoursPast,
    createdAtMinutesPast: s.createdAtMinutesPast,
    createdAtSecondsPast: s.createdAtSecondsPast,
    createdAtDaysFuture: s.createdAtDaysFuture,
    createdAtHoursFuture: s.createdAtHoursFuture,
    createdAtMinutesFuture: s.createdAtMinutesFuture,
    createdAtSecondsFuture: s.createdAtSecondsFuture,
    freeStorageValue: s.freeStorageValue,
    freeStorageUnit: s.freeStorageUnit,
    fullStorageAction: s.fullStorageAction,
    isPaidRelay: s.isPaidRelay,
    costToJoin: s.costToJoin,
    storageCostValue: s.storageCostValue,
    storageCostUnit: s.storageCostUnit,
    domain: s.domain,
  }
}

/** LNbits' rule: when events of a kind need AUTH. */
export function kindNeedsAuth(s: RelaySettings, kind: number): boolean {
  return s.requireAuthEvents ? !s.skipedAuthEvents.includes(kind) : s.forcedAuthEvents.includes(kind)
}

export { lnbitsLimits }
