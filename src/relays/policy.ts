// A hosted relay's policy, built from its record as hook lists (khatru's policies are the model) out
// of the builders in relay/policy/. Rebuilt whenever the record changes and swapped into the relay's
// hook lists in place, so a change applies to the next frame of every open connection. Accounts,
// banned events and blocked addresses are read from LMDB as each hook runs: they change without a
// rebuild. The LNbits rules are the extension's (relay/event_validator.py, client_connection.py):
// `allowed` skips payment, `blocked` always wins, the payment and storage rules apply to stored kinds
// only, and the account that pays is the publisher's (the AUTH pubkey of the connection, else the author).
import type { Hooks, Origin, PreventDelivery, RejectAuth, RejectConnection, RejectEvent, RejectFilter } from '../../relay/hooks.ts'
import type { Limits, Nip11Extra } from '../../relay/relay.ts'
import { isEphemeral } from '../../relay/kinds.ts'
import { onlyToTaggedReaders } from '../../relay/policy/delivery.ts'
import { authForKinds, createdAtBounds, kindsAccepted } from '../../relay/policy/events.ts'
import { authToRead, maxConnectionFilters } from '../../relay/policy/filters.ts'
import { eventsPerWindow, type Windows } from '../../relay/policy/rate.ts'
import type { Quota } from '../../relay/store/store.ts'
import type { Account, RelayRecords } from './records.ts'
import { kindNeedsAuth, lnbitsLimits, publicConfig, type RelayRecord, type RelaySettings } from './settings.ts'

export interface RelayPolicy {
  rejectEvent: RejectEvent[]
  rejectFilter: RejectFilter[]
  preventDelivery: PreventDelivery[]
  rejectConnection: RejectConnection[]
  rejectAuth: RejectAuth[]
}

type PolicyList = keyof RelayPolicy

export interface PolicyContext {
  records: RelayRecords
  /** Events-per-hour counts of the relay's connections, kept across rebuilds. */
  windows: Windows
}

const canJoin = (a: Account | undefined): boolean => a !== undefined && (a.paidToJoin || a.allowed)

/** LNbits: the AUTH pubkey of the connection publishes, else the author. */
function publisher(e: { pubkey: string }, origin: Origin): string {
  if (origin.type !== 'client') return e.pubkey
  const authed = origin.conn.authed
  if (authed.size === 0 || authed.has(e.pubkey)) return e.pubkey
  return authed.values().next().value as string
}

/** What every relay has, the default one included: bans, blocked pubkeys and addresses, kind lists. */
function management(rec: RelayRecord, ctx: PolicyContext): RelayPolicy {
  const { records } = ctx
  const id = rec.id
  const rejectEvent: RejectEvent[] = [
    (e) => (records.isBanned(id, e.id) ? 'blocked: this event is banned on this relay' : undefined),
    (e, origin) => {
      const by = publisher(e, origin)
      const blocked = records.account(id, e.pubkey)?.blocked ? e.pubkey : by !== e.pubkey && records.account(id, by)?.blocked ? by : undefined
      return blocked ? `blocked: pubkey ${blocked} is not allowed on this relay` : undefined
    },
  ]
  if (rec.allowedKinds || rec.deniedKinds.length > 0)
    rejectEvent.push(kindsAccepted(rec.allowedKinds ? new Set(rec.allowedKinds) : undefined, new Set(rec.deniedKinds)))
  return {
    rejectEvent,
    rejectFilter: [],
    preventDelivery: [],
    rejectConnection: [
      () => (rec.active ? undefined : `restricted: relay ${JSON.stringify(id)} is not active`),
      (ip) => (records.isBlockedIp(id, ip) ? 'blocked: your address may not connect to this relay' : undefined),
    ],
    rejectAuth: [],
  }
}

/** The LNbits settings as hooks. */
function lnbits(rec: RelayRecord, s: RelaySettings, ctx: PolicyContext): RelayPolicy {
  const { records } = ctx
  const id = rec.id
  const figures = lnbitsLimits(s)
  const p: RelayPolicy = { rejectEvent: [], rejectFilter: [], preventDelivery: [], rejectConnection: [], rejectAuth: [] }

  if (s.requireAuthEvents || s.forcedAuthEvents.length > 0) p.rejectEvent.push(authForKinds((kind) => kindNeedsAuth(s, kind)))
  if (s.maxEventsPerHour > 0) p.rejectEvent.push(eventsPerWindow(s.maxEventsPerHour, 3_600_000, 'an hour', ctx.windows))
  if (figures.createdAtPastSeconds > 0 || figures.createdAtFutureSeconds > 0)
    p.rejectEvent.push(createdAtBounds(figures.createdAtPastSeconds, figures.createdAtFutureSeconds))
  p.rejectEvent.push((e, origin) => {
    // plugins (the bunker's NIP-89 announcement) write as the operator; ephemeral events take no storage
    if (origin.type === 'local' || isEphemeral(e.kind)) return undefined
    if (figures.readOnly) return 'blocked: this relay is read-only'
    const account = records.account(id, publisher(e, origin))
    if (!figures.freeToJoin && !canJoin(account)) return `restricted: this is a paid relay: pay to join ${JSON.stringify(id)} first`
    if (figures.freeStorageBytes + (account?.storage ?? 0) === 0) return 'blocked: no storage available for this pubkey'
    return undefined
  })

  if (s.requireAuthFilter) {
    p.rejectFilter.push(authToRead, (_filters, conn) => {
      const accounts = [...conn.authed].map((pk) => records.account(id, pk))
      if (accounts.every((a) => a?.blocked)) return 'restricted: your pubkey is not allowed on this relay'
      if (!figures.freeToJoin && !accounts.some((a) => !a?.blocked && canJoin(a)))
        return `restricted: this is a paid relay: pay to join ${JSON.stringify(id)} first`
      return undefined
    })
  }
  if (s.maxClientFilters > 0) p.rejectFilter.push(maxConnectionFilters(s.maxClientFilters))
  if (kindNeedsAuth(s, 4)) p.preventDelivery.push(onlyToTaggedReaders(new Set([4])))

  const domain = s.domain.trim().toLowerCase()
  if (domain !== '') p.rejectAuth.push((e) => (authHost(e.tags) === domain ? undefined : 'invalid: AUTH relay tag names another domain'))
  return p
}

function authHost(tags: string[][]): string | undefined {
  const relay = tags.find((t) => t[0] === 'relay')?.[1]
  try {
    return relay === undefined ? undefined : new URL(relay).host.toLowerCase()
  } catch {
    return undefined
  }
}

export function buildPolicy(rec: RelayRecord, ctx: PolicyContext): RelayPolicy {
  const base = management(rec, ctx)
  if (!rec.settings) return base
  const own = lnbits(rec, rec.settings, ctx)
  return {
    rejectEvent: [...base.rejectEvent, ...own.rejectEvent],
    rejectFilter: [...base.rejectFilter, ...own.rejectFilter],
    preventDelivery: [...base.preventDelivery, ...own.preventDelivery],
    rejectConnection: [...base.rejectConnection, ...own.rejectConnection],
    rejectAuth: [...base.rejectAuth, ...own.rejectAuth],
  }
}

/** Replaces the hooks `prev` installed with those of `next`, in place: sessions hold the same lists. */
export function installPolicy(hooks: Hooks, prev: RelayPolicy | undefined, next: RelayPolicy): void {
  for (const name of Object.keys(next) as PolicyList[]) {
    const list = hooks[name] as unknown[]
    const old = new Set<unknown>(prev?.[name] ?? [])
    for (let i = list.length - 1; i >= 0; i--) if (old.has(list[i])) list.splice(i, 1)
    list.push(...next[name])
  }
}

/** LNbits' storage rule: free storage plus what the author bought, pruned or blocked when full. */
export function quotaOf(rec: RelayRecord, account: Account | undefined): Quota | undefined {
  if (!rec.settings) return undefined
  const bytes = lnbitsLimits(rec.settings).freeStorageBytes + (account?.storage ?? 0)
  return bytes > 0 ? { bytes, events: 0, action: rec.settings.fullStorageAction } : undefined
}

/** limitPerFilter is both the cap and the default (0: LNbits applies none; the relay's own caps remain). */
export function queryLimits(rec: RelayRecord, global: Limits): Pick<Limits, 'maxLimit' | 'defaultLimit'> {
  const per = rec.settings?.limitPerFilter ?? 0
  if (per === 0) return { maxLimit: global.maxLimit, defaultLimit: global.defaultLimit }
  const cap = Math.min(per, global.maxLimit)
  return { maxLimit: cap, defaultLimit: cap }
}

/** NIP-11 from the settings: the fields LNbits' UI reads (`id`, `config`) and `limitation` as enforced. */
export function nip11Of(rec: RelayRecord, global: Limits): Nip11Extra {
  const kindsLimited = rec.allowedKinds !== null || rec.deniedKinds.length > 0
  const s = rec.settings
  if (!s) return { limitation: { restricted_writes: kindsLimited } }
  const f = lnbitsLimits(s)
  const future = f.createdAtFutureSeconds > 0 ? Math.min(f.createdAtFutureSeconds, global.maxFutureSeconds) : global.maxFutureSeconds
  const past = [f.createdAtPastSeconds, global.maxPastSeconds].filter((x) => x > 0)
  return {
    fields: {
      id: rec.id,
      config: publicConfig(s),
      ...(!f.freeToJoin ? { fees: { admission: [{ amount: s.costToJoin * 1000, unit: 'msats' }] } } : {}),
    },
    limitation: {
      auth_required: s.requireAuthFilter || s.requireAuthEvents,
      payment_required: !f.freeToJoin,
      restricted_writes: f.readOnly || !f.freeToJoin || s.requireAuthEvents || s.forcedAuthEvents.length > 0 || kindsLimited,
      created_at_upper_limit: future,
      ...(past.length > 0 ? { created_at_lower_limit: Math.min(...past) } : {}),
    },
  }
}
