// Normalising LNbits' relays.meta: either key style, LNbits' defaults, clear errors.
import { describe, expect, it } from 'vitest'
import { lnbitsLimits, normaliseLnbitsSettings } from '../../src/import/lnbits/index.ts'

const ok = (meta: unknown) => {
  const r = normaliseLnbitsSettings(meta)
  if (!r.ok) throw new Error(r.error)
  return r
}

describe('LNbits relay settings', () => {
  it('fills every key with LNbits defaults', () => {
    for (const meta of ['{}', '', null, {}]) {
      expect(ok(meta).settings).toEqual({
        maxClientFilters: 0,
        limitPerFilter: 1000,
        maxEventsPerHour: 0,
        createdAtDaysPast: 0,
        createdAtHoursPast: 0,
        createdAtMinutesPast: 0,
        createdAtSecondsPast: 0,
        createdAtDaysFuture: 0,
        createdAtHoursFuture: 0,
        createdAtMinutesFuture: 0,
        createdAtSecondsFuture: 0,
        freeStorageValue: 1,
        freeStorageUnit: 'MB',
        fullStorageAction: 'prune',
        isPaidRelay: false,
        costToJoin: 0,
        storageCostValue: 0,
        storageCostUnit: 'MB',
        wallet: '',
        domain: '',
        requireAuthEvents: false,
        skipedAuthEvents: [],
        forcedAuthEvents: [],
        requireAuthFilter: false,
      })
    }
  })

  it('reads snake_case and camelCase alike; the camelCase alias wins a disagreement, with a warning', () => {
    const snake = ok({ limit_per_filter: 10, require_auth_filter: true, skiped_auth_events: [4, '1059'], free_storage_unit: 'kb' })
    const camel = ok({ limitPerFilter: 10, requireAuthFilter: true, skipedAuthEvents: ['4', 1059], freeStorageUnit: 'KB' })
    expect(snake.settings).toEqual(camel.settings)
    expect(snake.settings).toMatchObject({ limitPerFilter: 10, requireAuthFilter: true, skipedAuthEvents: [4, 1059], freeStorageUnit: 'KB' })
    expect(snake.warnings).toEqual([])
    const mixed = ok({ limit_per_filter: 10, limitPerFilter: 20, max_client_filters: 3, somethingElse: 1 })
    expect(mixed.settings).toMatchObject({ limitPerFilter: 20, maxClientFilters: 3 })
    expect(mixed.warnings).toEqual([
      'meta has both limitPerFilter (20) and limit_per_filter (10); limitPerFilter wins, as in LNbits',
      'meta.somethingElse is not an LNbits relay setting; ignored',
    ])
  })

  it('coerces what pydantic coerced: numeric text, "true"/"false", 0/1, null as unset', () => {
    const r = ok({ max_client_filters: '7', is_paid_relay: 'true', require_auth_events: 1, wallet: null, cost_to_join: null })
    expect(r.settings).toMatchObject({ maxClientFilters: 7, isPaidRelay: true, requireAuthEvents: true, wallet: '', costToJoin: 0 })
  })

  it('refuses values it cannot use, naming the stored key', () => {
    const err = (meta: unknown) => {
      const r = normaliseLnbitsSettings(meta)
      return r.ok ? 'accepted' : r.error
    }
    expect(err({ limit_per_filter: -1 })).toBe('meta.limit_per_filter: expected a number >= 0 (got -1)')
    expect(err({ limitPerFilter: 'lots' })).toMatch(/^meta\.limitPerFilter: .* \(got "lots"\)$/)
    expect(err({ full_storage_action: 'delete' })).toBe('meta.full_storage_action: expected "prune" or "block" (got "delete")')
    expect(err({ forced_auth_events: [70000] })).toMatch(/^meta\.forced_auth_events: /)
    expect(err('[1, 2]')).toBe('meta is not a JSON object')
    expect(err('{"a":')).toMatch(/^meta is not valid JSON/)
  })

  it('derives what LNbits computed at run time', () => {
    const s = ok({
      created_at_days_past: 1,
      created_at_minutes_past: 2,
      created_at_seconds_future: 30,
      free_storage_value: 3,
      free_storage_unit: 'KB',
    }).settings
    expect(lnbitsLimits(s)).toEqual({ createdAtPastSeconds: 86520, createdAtFutureSeconds: 30, freeStorageBytes: 3072, readOnly: false, freeToJoin: true })
    expect(lnbitsLimits(ok({ freeStorageValue: 0 }).settings).readOnly).toBe(true)
    expect(lnbitsLimits(ok({ freeStorageValue: 0, isPaidRelay: true, costToJoin: 5 }).settings)).toMatchObject({ readOnly: false, freeToJoin: false })
  })
})
