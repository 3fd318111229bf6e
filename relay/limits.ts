// Relay limits, all configurable. The hooks that enforce them are built in policy/ and ordered in
// relay.ts; the connection limits are enforced by the server at upgrade.

export interface Limits {
  /** Largest WebSocket message accepted, in bytes. Bunker traffic carries large encrypted events. */
  maxMessageBytes: number
  maxSubscriptions: number
  maxFilters: number
  /**
   * Values in one list of a filter (ids, authors, kinds, or one tag's values). A tag value longer
   * than 64 characters counts once per 64 characters begun, here and in the two limits below.
   */
  maxFilterValues: number
  /** Filter values one connection's open subscriptions may hold together. */
  maxConnectionValues: number
  /** Filter values all client subscriptions may hold together: the dispatch table's bound (~130 bytes each). */
  maxHeldFilterValues: number
  /** Cap on a filter's limit; also the COUNT cap. */
  maxLimit: number
  /** Limit applied to filters that give none. */
  defaultLimit: number
  maxEventTags: number
  /** created_at may be at most this far in the future (seconds). */
  maxFutureSeconds: number
  /** created_at may be at most this far in the past (seconds); 0 = no bound. */
  maxPastSeconds: number
  /** A connection whose unsent bytes exceed this is closed: a slow reader never slows others. */
  maxBufferedBytes: number
  /** Events per minute one connection may send; 0 = no limit. */
  maxEventsPerMinute: number
  /** Open WebSocket connections, all addresses together (process-wide, enforced at upgrade). */
  maxConnections: number
  /** Open WebSocket connections from one address (an IPv6 address counts by its /64). */
  maxConnectionsPerIp: number
  /**
   * EVENTs a second from one address, over all its connections (process-wide, before the signature
   * check), in bursts of two seconds' worth; past it `OK false "rate-limited:"`. 0: no bound.
   */
  maxEventsPerSecondPerIp: number
  /** Input bytes a second from one address (process-wide), bursts of two seconds' worth; past it frames are dropped unread with a NOTICE. 0: no bound. */
  maxInputBytesPerSecondPerIp: number
}

export const defaultLimits: Limits = {
  maxMessageBytes: 512 * 1024,
  maxSubscriptions: 50,
  maxFilters: 20,
  maxFilterValues: 5000,
  maxConnectionValues: 20_000,
  maxHeldFilterValues: 1_000_000,
  maxLimit: 5000,
  defaultLimit: 500,
  maxEventTags: 5000,
  maxFutureSeconds: 15 * 60,
  maxPastSeconds: 0,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxEventsPerMinute: 0,
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  // Off by default: without clientIpHeader behind a reverse proxy every client shares one address.
  maxEventsPerSecondPerIp: 0,
  maxInputBytesPerSecondPerIp: 0,
}

/**
 * The transport's frame cap: maxMessageBytes and a quarter more, so an EVENT a little over the
 * limit is still read and answered `OK false`; anything larger closes the connection from
 * its header, and a stalled partial frame holds at most this much.
 */
export const payloadLimit = (maxMessageBytes: number): number => maxMessageBytes + Math.ceil(maxMessageBytes / 4)
