// Ordered hook lists in the manner of khatru: each list runs in order and, for the reject lists, the
// first hook that returns a reason wins. Hooks are synchronous: they sit on the hot path.
import type { NostrEvent } from './event.ts'
import type { NormFilter } from './filter.ts'

/** Where an event or request came from. */
export type Origin = { type: 'client'; conn: ConnectionInfo } | { type: 'local'; plugin?: string } | { type: 'bridge'; upstream: string }

/** What hooks may know of a client connection. */
export interface ConnectionInfo {
  readonly id: number
  /** The client's address (from the proxy's header when one is configured). */
  readonly ip: string
  /** Pubkeys this connection authenticated as (NIP-42). */
  readonly authed: ReadonlySet<string>
  /** Its open subscriptions, their filters, and the filter values they hold: what per-connection filter policies weigh. */
  readonly subscriptions: number
  readonly filters: number
  readonly filterValues: number
}

/** A REQ opens a subscription that stays; a COUNT is answered and forgotten. */
export type FilterVerb = 'REQ' | 'COUNT'

/** Returns a NIP-01 prefixed reason to reject, or undefined to let it pass. */
export type RejectEvent = (event: NostrEvent, origin: Origin) => string | undefined
/** Runs on a REQ's or COUNT's filters, after they are validated; for a REQ, after a subscription it replaces is closed. */
export type RejectFilter = (filters: NormFilter[], conn: ConnectionInfo, verb: FilterVerb) => string | undefined
export type OnConnection = (conn: ConnectionInfo) => void
export type OnAccepted = (event: NostrEvent, origin: Origin) => void
/** At upgrade, before the connection exists: a reason refuses it (the server answers 403 with it). */
export type RejectConnection = (ip: string) => string | undefined
/** Per event and reader, live and stored: true keeps the event from this connection. */
export type PreventDelivery = (event: NostrEvent, conn: ConnectionInfo) => boolean
/** Runs on a NIP-42 AUTH event that passed the standard checks (signature, challenge, time, relay URL). */
export type RejectAuth = (event: NostrEvent, conn: ConnectionInfo) => string | undefined

export interface Hooks {
  rejectEvent: RejectEvent[]
  rejectFilter: RejectFilter[]
  onConnect: OnConnection[]
  onDisconnect: OnConnection[]
  /** After an event is accepted (committed when stored) and before it is dispatched. */
  onAccepted: OnAccepted[]
  rejectConnection: RejectConnection[]
  preventDelivery: PreventDelivery[]
  rejectAuth: RejectAuth[]
}

export const createHooks = (): Hooks => ({
  rejectEvent: [],
  rejectFilter: [],
  onConnect: [],
  onDisconnect: [],
  onAccepted: [],
  rejectConnection: [],
  preventDelivery: [],
  rejectAuth: [],
})

/** Whether any hook keeps the event from this reader; no cost when the list is empty. */
export function deliveryPrevented(list: PreventDelivery[], event: NostrEvent, conn: ConnectionInfo): boolean {
  for (let i = 0; i < list.length; i++) if (list[i](event, conn)) return true
  return false
}

export function firstRejection<A extends unknown[]>(list: Array<(...args: A) => string | undefined>, ...args: A): string | undefined {
  for (const hook of list) {
    const reason = hook(...args)
    if (reason !== undefined) return reason
  }
  return undefined
}
