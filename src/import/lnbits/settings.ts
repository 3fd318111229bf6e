// One typed settings object from an LNbits nostrrelay `relays.meta` JSON. LNbits stored the
// pydantic field names (snake_case) while its UI and API speak the aliases (camelCase); rows of
// either style, or a mix, exist in the wild. As pydantic does, the alias wins when both are given.
import { z } from 'zod'

/** camelCase name -> the snake_case field name LNbits stored. */
export const SNAKE = {
  maxClientFilters: 'max_client_filters',
  limitPerFilter: 'limit_per_filter',
  maxEventsPerHour: 'max_events_per_hour',
  createdAtDaysPast: 'created_at_days_past',
  createdAtHoursPast: 'created_at_hours_past',
  createdAtMinutesPast: 'created_at_minutes_past',
  createdAtSecondsPast: 'created_at_seconds_past',
  createdAtDaysFuture: 'created_at_days_future',
  createdAtHoursFuture: 'created_at_hours_future',
  createdAtMinutesFuture: 'created_at_minutes_future',
  createdAtSecondsFuture: 'created_at_seconds_future',
  freeStorageValue: 'free_storage_value',
  freeStorageUnit: 'free_storage_unit',
  fullStorageAction: 'full_storage_action',
  isPaidRelay: 'is_paid_relay',
  costToJoin: 'cost_to_join',
  storageCostValue: 'storage_cost_value',
  storageCostUnit: 'storage_cost_unit',
  wallet: 'wallet',
  domain: 'domain',
  requireAuthEvents: 'require_auth_events',
  skipedAuthEvents: 'skiped_auth_events',
  forcedAuthEvents: 'forced_auth_events',
  requireAuthFilter: 'require_auth_filter',
} as const

// Pydantic coerced numeric strings and "true"/"false"; JSON written by hand or by old UIs has both.
const count = z
  .union([z.number(), z.string().regex(/^\s*\d+\s*$/, 'expected a whole number')])
  .transform(Number)
  .pipe(z.number().int('expected a whole number').nonnegative('expected a number >= 0').max(Number.MAX_SAFE_INTEGER))
const flag = z.union([
  z.boolean(),
  z.literal(0).transform(() => false),
  z.literal(1).transform(() => true),
  z.enum(['true', 'false']).transform((s) => s === 'true'),
])
const unit = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .pipe(z.enum(['MB', 'KB'], 'expected "MB" or "KB"'))
const kinds = z.array(
  z
    .union([z.number(), z.string().regex(/^\s*\d+\s*$/, 'expected a kind number')])
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535)),
)
const text = z
  .string()
  .nullable()
  .transform((s) => s ?? '')

const schema = z.object({
  maxClientFilters: count.default(0),
  limitPerFilter: count.default(1000),
  maxEventsPerHour: count.default(0),
  createdAtDaysPast: count.default(0),
  createdAtHoursPast: count.default(0),
  createdAtMinutesPast: count.default(0),
  createdAtSecondsPast: count.default(0),
  createdAtDaysFuture: count.default(0),
  createdAtHoursFuture: count.default(0),
  createdAtMinutesFuture: count.default(0),
  createdAtSecondsFuture: count.default(0),
  freeStorageValue: count.default(1),
  freeStorageUnit: unit.default('MB'),
  fullStorageAction: z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(['prune', 'block'], 'expected "prune" or "block"'))
    .default('prune'),
  isPaidRelay: flag.default(false),
  costToJoin: count.default(0),
  storageCostValue: count.default(0),
  storageCostUnit: unit.default('MB'),
  wallet: text.default(''),
  domain: text.default(''),
  requireAuthEvents: flag.default(false),
  skipedAuthEvents: kinds.default([]),
  forcedAuthEvents: kinds.default([]),
  requireAuthFilter: flag.default(false),
})

/** An LNbits relay's settings, camelCase, every key present (LNbits' defaults filled in). */
export type LnbitsRelaySettings = z.output<typeof schema>

export type SettingsResult = { ok: true; settings: LnbitsRelaySettings; warnings: string[] } | { ok: false; error: string }

/** Normalises `relays.meta` (JSON text or an already parsed object). Never throws. */
export function normaliseLnbitsSettings(meta: unknown): SettingsResult {
  let raw = meta
  if (typeof meta === 'string') {
    try {
      raw = meta.trim() === '' ? {} : JSON.parse(meta)
    } catch (e) {
      return { ok: false, error: `meta is not valid JSON (${(e as Error).message})` }
    }
  }
  if (raw === null || raw === undefined) raw = {}
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'meta is not a JSON object' }
  const { input, warnings } = unify(raw as Record<string, unknown>)
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const key = String(issue.path[0] ?? '')
    const stored = key in SNAKE && !(key in (raw as object)) ? SNAKE[key as keyof typeof SNAKE] : key
    return { ok: false, error: `meta.${stored}: ${issue.message} (got ${JSON.stringify((input as Record<string, unknown>)[key])})` }
  }
  return { ok: true, settings: parsed.data, warnings }
}

function unify(raw: Record<string, unknown>): { input: Record<string, unknown>; warnings: string[] } {
  const input: Record<string, unknown> = {}
  const warnings: string[] = []
  const known = new Set<string>()
  for (const [camel, snake] of Object.entries(SNAKE)) {
    known.add(camel).add(snake)
    const c = raw[camel]
    const s = raw[snake]
    if (c !== undefined && s !== undefined && JSON.stringify(c) !== JSON.stringify(s)) {
      warnings.push(`meta has both ${camel} (${JSON.stringify(c)}) and ${snake} (${JSON.stringify(s)}); ${camel} wins, as in LNbits`)
    }
    // null means "not set" in hand-edited rows; the default applies (text fields accept it as "").
    const v = c !== undefined ? c : s
    if (v !== undefined && !(v === null && camel !== 'wallet' && camel !== 'domain')) input[camel] = v
  }
  for (const key of Object.keys(raw)) if (!known.has(key)) warnings.push(`meta.${key} is not an LNbits relay setting; ignored`)
  return { input, warnings }
}

/** The figures LNbits derived from the settings at run time. */
export interface LnbitsLimits {
  /** 0: no bound */
  createdAtPastSeconds: number
  /** 0: no bound */
  createdAtFutureSeconds: number
  freeStorageBytes: number
  /** LNbits: free storage 0 on a relay that is not paid means nobody may write. */
  readOnly: boolean
  freeToJoin: boolean
}

export function lnbitsLimits(s: LnbitsRelaySettings): LnbitsLimits {
  return {
    createdAtPastSeconds: s.createdAtDaysPast * 86400 + s.createdAtHoursPast * 3600 + s.createdAtMinutesPast * 60 + s.createdAtSecondsPast,
    createdAtFutureSeconds: s.createdAtDaysFuture * 86400 + s.createdAtHoursFuture * 3600 + s.createdAtMinutesFuture * 60 + s.createdAtSecondsFuture,
    freeStorageBytes: s.freeStorageValue * 1024 * (s.freeStorageUnit === 'MB' ? 1024 : 1),
    readOnly: s.freeStorageValue === 0 && !s.isPaidRelay,
    freeToJoin: !s.isPaidRelay || s.costToJoin === 0,
  }
}
