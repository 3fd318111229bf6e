// The event pipeline, shared by client EVENTs and the host API's publish():
// shape -> duplicate -> id and signature -> policy hooks -> (store and commit | ephemeral) -> dispatch.
// The outcome resolves only after the commit, so an OK true is never sent for an event not on disk.
import type { DispatchTable } from './dispatch.ts'
import { shapeError, type NostrEvent } from './event.ts'
import { firstRejection, type Hooks, type Origin } from './hooks.ts'
import { isEphemeral } from './kinds.ts'
import type { RecentIds } from './recent.ts'
import type { EventStore } from './store/store.ts'
import type { Verifier } from './verify-pool.ts'
import type { Check } from './verify.ts'

export interface Outcome {
  ok: boolean
  message: string
}

export interface IngestStats {
  accepted: number
  rejected: number
  /** Already held (or superseded): answered OK true, neither stored again nor dispatched. */
  duplicate: number
}

export interface Pipeline {
  store: EventStore
  dispatch: DispatchTable
  hooks: Hooks
  /** Shared by the relays of a process: each relay's ids are kept under its own prefix. */
  recentEphemeral: RecentIds
  recentPrefix: string
  stats: IngestStats
  verifier: Verifier
  onError: (err: unknown, where: string) => void
}

/** Only the seven NIP-01 fields, in canonical order: extra client fields are neither kept nor echoed. */
function canonical(e: NostrEvent): NostrEvent {
  return { id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }
}

function reject(p: Pipeline, message: string): Outcome {
  p.stats.rejected++
  return { ok: false, message }
}

/** NIP-01: a duplicate is answered `true` with the `duplicate:` prefix; the client has nothing to fix. */
function duplicate(p: Pipeline, message = 'duplicate: already have this event'): Outcome {
  p.stats.duplicate++
  return { ok: true, message }
}

function accept(p: Pipeline, e: NostrEvent, json: string, origin: Origin): Outcome {
  p.stats.accepted++
  for (const hook of p.hooks.onAccepted) hook(e, origin)
  p.dispatch.dispatch(e, json)
  return { ok: true, message: '' }
}

/**
 * Runs one event through the pipeline. `verified` skips the signature check; only the host API sets
 * it, for events this process signed itself. Ephemeral events checked inline are dispatched before
 * this returns: nothing in their path awaits.
 */
export function ingest(p: Pipeline, raw: unknown, origin: Origin, verified = false): Promise<Outcome> {
  const shape = shapeError(raw)
  if (shape) return Promise.resolve(reject(p, shape))
  const e = canonical(raw as NostrEvent)
  if (isDuplicate(p, e)) return Promise.resolve(duplicate(p))
  if (verified) return afterCheck(p, e, origin, 'ok')
  const check = p.verifier.check(e)
  return typeof check === 'string' ? afterCheck(p, e, origin, check) : check.then((c) => afterCheck(p, e, origin, c))
}

const isDuplicate = (p: Pipeline, e: NostrEvent): boolean => (isEphemeral(e.kind) ? p.recentEphemeral.has(p.recentPrefix + e.id) : p.store.has(e.id))

async function afterCheck(p: Pipeline, e: NostrEvent, origin: Origin, check: Check): Promise<Outcome> {
  if (check === 'bad-id') return reject(p, 'invalid: event id does not match its contents')
  if (check === 'bad-sig') return reject(p, 'invalid: signature does not verify')
  // checked again: the same event may have arrived twice while its signature was being checked
  if (isEphemeral(e.kind) && p.recentEphemeral.has(p.recentPrefix + e.id)) return duplicate(p)
  const reason = firstRejection(p.hooks.rejectEvent, e, origin)
  if (reason) return reject(p, reason)
  const json = JSON.stringify(e)
  if (isEphemeral(e.kind)) {
    p.recentEphemeral.add(p.recentPrefix + e.id)
    return accept(p, e, json, origin)
  }
  try {
    const saved = await p.store.save(e, json)
    if (!saved.ok) return saved.reason.startsWith('duplicate:') ? duplicate(p, saved.reason) : reject(p, saved.reason)
  } catch (err) {
    p.onError(err, 'store')
    return reject(p, 'error: the event could not be stored')
  }
  return accept(p, e, json, origin)
}
