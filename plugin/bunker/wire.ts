// Bounds on what clients can make the bunker hold on its request path, and the counters that show
// them at work. The counters are plain numbers the metrics read at scrape time: the hot path pays
// an increment, nothing more.

export interface WireSettings {
  /** Requests one client pubkey may send a minute (a burst of as many, refilled evenly); 0: no limit. Admins are not limited. */
  requestsPerMinute: number
  /**
   * Requests remembered for replay protection, each for as long as it could still be accepted.
   * When full, new requests are refused: ids are never forgotten early. Strangers (clients the
   * addressed key does not know, non-admins on the admin key) may fill at most half.
   */
  maxRememberedRequests: number
  /** Requests waiting on an admin's acl answer, in total (the questions and the requests queued behind them). */
  maxPendingApprovals: number
}

/**
 * Defaults of the plugin when embedded without settings (the application passes its config's). No
 * rate limit here: in-process users (benchmarks) drive one client hard; the app's default has one.
 */
export const defaultWireSettings: WireSettings = { requestsPerMinute: 0, maxRememberedRequests: 200_000, maxPendingApprovals: 100 }

/** Why a request was not handled; a fixed set, so it can be a metric label. */
export const REFUSALS = ['replay', 'duplicate_id', 'stale', 'rate_limited', 'memory_full', 'approvals_full', 'unreadable', 'malformed'] as const
export type Refusal = (typeof REFUSALS)[number]

export interface WireStats {
  refused: Record<Refusal, number>
  /** Live sizes, read at scrape time; the bunker's parts install them as they start. */
  gauges: {
    /** Requests whose ids are remembered now, and how many of those came from strangers. */
    remembered: () => number
    rememberedStrangers: () => number
    /** Requests waiting on an admin's answer now. */
    pendingApprovals: () => number
  }
}

export const createWireStats = (): WireStats => ({
  refused: Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<Refusal, number>,
  gauges: { remembered: () => 0, rememberedStrangers: () => 0, pendingApprovals: () => 0 },
})
