// Packing the bunker's pubkeys into REQ frames an upstream accepts: #p values per filter, filters
// per REQ and bytes per frame all bounded by what its NIP-11 `limitation` says (and what its CLOSED
// or NOTICE answers taught us since). Every filter names its #p values: never all kind 24133.

export interface UpstreamLimits {
  maxSubscriptions: number
  maxFilters: number
  maxMessageBytes: number
  maxKeysPerFilter: number
}

/** One pubkey to listen for, and the kinds addressed to it (admin: 24133 and 24134; keys: 24133). */
export interface Want {
  pubkey: string
  kinds: readonly number[]
}

export interface ReqFilter {
  kinds: number[]
  '#p': string[]
  limit: number
  since?: number
}

export interface PlannedReq {
  filters: ReqFilter[]
  pubkeys: string[]
}

/** What a window adds to every filter: limit 0 (live only), or since + a replay limit after a reconnect. */
export interface Window {
  limit: number
  since?: number
}

/** `["REQ","<sub id up to 24>",` and `]`, with room to spare. */
const FRAME_OVERHEAD = 64
/** `"<64 hex>",` */
const PUBKEY_BYTES = 67
/** `{"kinds":[24133,24134],"#p":[],"limit":5000,"since":1234567890}` */
const FILTER_OVERHEAD = 80

export function planReqs(wants: Iterable<Want>, limits: UpstreamLimits, window: Window): PlannedReq[] {
  const groups = new Map<string, { kinds: number[]; pubkeys: string[] }>()
  for (const w of wants) {
    const key = w.kinds.join(',')
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { kinds: [...w.kinds], pubkeys: [] }))
    g.pubkeys.push(w.pubkey)
  }
  const budget = Math.max(FILTER_OVERHEAD + PUBKEY_BYTES, limits.maxMessageBytes - FRAME_OVERHEAD)
  const perFilter = Math.max(1, Math.min(limits.maxKeysPerFilter, Math.floor((budget - FILTER_OVERHEAD) / PUBKEY_BYTES)))
  const reqs: PlannedReq[] = []
  let current: (PlannedReq & { bytes: number }) | undefined
  for (const g of groups.values()) {
    for (let i = 0; i < g.pubkeys.length; i += perFilter) {
      const chunk = g.pubkeys.slice(i, i + perFilter)
      const filter: ReqFilter = { kinds: g.kinds, '#p': chunk, limit: window.limit, ...(window.since !== undefined ? { since: window.since } : {}) }
      const bytes = FILTER_OVERHEAD + chunk.length * PUBKEY_BYTES
      if (!current || current.filters.length >= limits.maxFilters || current.bytes + bytes > budget) {
        current = { filters: [], pubkeys: [], bytes: 0 }
        reqs.push(current)
      }
      current.filters.push(filter)
      current.pubkeys.push(...chunk)
      current.bytes += bytes
    }
  }
  return reqs.map(({ filters, pubkeys }) => ({ filters, pubkeys }))
}

/** Limits from an upstream's NIP-11 document, capped by ours; absent fields take cautious defaults. */
export function limitsFrom(info: unknown, caps: { maxKeysPerFilter: number; maxMessageBytes: number }): UpstreamLimits {
  const l = (info as { limitation?: Record<string, unknown> } | undefined)?.limitation ?? {}
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : fallback)
  return {
    maxSubscriptions: Math.min(num(l.max_subscriptions, 10), 1000),
    maxFilters: Math.min(num(l.max_filters, 10), 100),
    maxMessageBytes: Math.min(num(l.max_message_length, 64 * 1024), caps.maxMessageBytes),
    maxKeysPerFilter: caps.maxKeysPerFilter,
  }
}

/** Narrows the limits after an upstream refused a REQ; returns what was narrowed (for the log). */
export function narrowLimits(limits: UpstreamLimits, reason: string, refused: { filters: number; bytes: number; openSubs: number }): string {
  const r = reason.toLowerCase()
  if (/subscription|too many req|concurrent/.test(r)) {
    limits.maxSubscriptions = Math.max(1, Math.min(limits.maxSubscriptions - 1, refused.openSubs))
    return `maxSubscriptions ${limits.maxSubscriptions}`
  }
  if (/filter/.test(r) && !/tag|value/.test(r)) {
    limits.maxFilters = Math.max(1, Math.min(limits.maxFilters - 1, Math.floor(refused.filters / 2)))
    return `maxFilters ${limits.maxFilters}`
  }
  if (/large|size|length|bytes|too long/.test(r)) {
    limits.maxMessageBytes = Math.max(1024, Math.floor(refused.bytes / 2))
    return `maxMessageBytes ${limits.maxMessageBytes}`
  }
  limits.maxKeysPerFilter = Math.max(1, Math.floor(limits.maxKeysPerFilter / 2))
  return `maxKeysPerFilter ${limits.maxKeysPerFilter}`
}
