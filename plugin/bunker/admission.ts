// Whether a readable request gets handled: inside the time window, not a replay (same event, or the
// same rpc id from the same client to the same key wrapped in a new event), room to remember it,
// and the client within its rate. First refusal wins; each refusal is counted by reason.
import type { NostrEvent } from '../../relay/relay.ts'
import { createRateLimit } from './rate-limit.ts'
import { createReplayMemory, requestKeyOf } from './replay.ts'
import type { Refusal, WireSettings, WireStats } from './wire.ts'

/** Who sent a request, as far as the bunker's limits go. */
export type Trust = 'admin' | 'known' | 'stranger'

/** Seconds an id is kept past the last moment its request could be accepted: clock steps, rounding. */
const MARGIN_SECONDS = 5

export interface Refused {
  reason: Refusal
  /** The error reply; undefined to stay silent. */
  error?: string
}

export interface Admission {
  /** An event already accepted: checked before decrypting, and dropped in silence. */
  replayed(eventId: string): boolean
  /** Records the request and returns undefined, or says why it is refused. */
  admit(event: NostrEvent, keyPubkey: string, rpcId: string | undefined, trust: Trust): Refused | undefined
}

export function createAdmission(opts: WireSettings & { windowSeconds: number; stats: WireStats; onFull: () => void }): Admission {
  const nowSeconds = () => Math.floor(Date.now() / 1000)
  const memory = createReplayMemory(opts.maxRememberedRequests)
  const limit = createRateLimit(opts.requestsPerMinute, Date.now())
  opts.stats.gauges.remembered = () => {
    memory.sweep(nowSeconds())
    return memory.size
  }
  opts.stats.gauges.rememberedStrangers = () => memory.strangers
  const rate = `rate-limited: more than ${opts.requestsPerMinute} requests a minute from this client`

  function refuse(reason: Refusal, error?: string): Refused {
    opts.stats.refused[reason]++
    return { reason, error }
  }

  return {
    replayed(eventId) {
      if (!memory.hasEvent(eventId)) return false
      opts.stats.refused.replay++
      return true
    },
    admit(event, keyPubkey, rpcId, trust) {
      const now = nowSeconds()
      if (Math.abs(event.created_at - now) > opts.windowSeconds) return refuse('stale', 'request created_at is outside the accepted time window')
      const key = rpcId === undefined ? undefined : requestKeyOf(keyPubkey, event.pubkey, rpcId)
      if (key !== undefined && memory.hasRequest(key)) return refuse('duplicate_id', 'duplicate: this request id was already used')
      const stranger = trust === 'stranger'
      if (!memory.hasRoom(stranger, now)) {
        opts.onFull()
        return refuse('memory_full', 'rate-limited: the bunker is busy, try again later')
      }
      // Not remembered when refused here, so one client's flood cannot fill the memory. A refused
      // request was not run, so should it come again and pass, it runs once, not twice.
      if (trust !== 'admin' && !limit.take(event.pubkey, Date.now())) return refuse('rate_limited', rate)
      // Acceptable until created_at + window; a rewrap of the rpc id is refused a window from now.
      memory.remember(event.id, key, stranger, Math.max(event.created_at, now) + opts.windowSeconds + MARGIN_SECONDS)
      return undefined
    },
  }
}
