// The event pipeline, shared by client EVENTs and the host API's publish():
// shape -> duplicate -> id and signature -> policy hooks -> (store and commit | ephemeral) -> dispatch.
// The outcome resolves only after the commit, so an OK true is never sent for an event not on disk.
import type { DispatchTable } from './dispatch.ts'
import { isEphemeral, shapeError, type NostrEvent } from './event.ts'
import { firstRejection, type Hooks, type Origin } from './hooks.ts'
import type { RecentIds } from './recent.ts'
import type { EventStore } from './store/store.ts'
import { checkEvent } from './verify.ts'

export interface Outcome {
  ok: boolean
  message: string
}

export interface IngestStats {
  accepted: number
  rejected: number
}

export interface Pipeline {
  store: EventStore
  dispatch: DispatchTable
  hooks: Hooks
  recentEphemeral: RecentIds
  stats: IngestStats
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

function accept(p: Pipeline, e: NostrEvent, json: string, origin: Origin): Outcome {
  p.stats.accepted++
  for (const hook of p.hooks.onAccepted) hook(e, origin)
  p.dispatch.dispatch(e, json)
  return { ok: true, message: '' }
}

/** Checks that need no I/O: returns a reason, or undefined when the event may go on to storage. */
function precheck(p: Pipeline, e: NostrEvent, origin: Origin, verified: boolean): string | undefined {
  const ephemeral = isEphemeral(e.kind)
  if (ephemeral ? p.recentEphemeral.has(e.id) : p.store.has(e.id)) return 'duplicate: already have this event'
  if (!verified) {
    const check = checkEvent(e)
    if (check === 'bad-id') return 'invalid: event id does not match its contents'
    if (check === 'bad-sig') return 'invalid: signature does not verify'
  }
  return firstRejection(p.hooks.rejectEvent, e, origin)
}

/**
 * Runs one event through the pipeline. `verified` skips the signature check; only the host API sets
 * it, for events this process signed itself.
 */
export async function ingest(p: Pipeline, raw: unknown, origin: Origin, verified = false): Promise<Outcome> {
  const shape = shapeError(raw)
  if (shape) return reject(p, shape)
  const e = canonical(raw as NostrEvent)
  const reason = precheck(p, e, origin, verified)
  if (reason) return reject(p, reason)
  const json = JSON.stringify(e)
  if (isEphemeral(e.kind)) {
    p.recentEphemeral.add(e.id)
    return accept(p, e, json, origin)
  }
  try {
    const saved = await p.store.save(e, json)
    if (!saved.ok) return reject(p, saved.reason)
  } catch (err) {
    p.onError(err, 'store')
    return reject(p, 'error: the event could not be stored')
  }
  return accept(p, e, json, origin)
}
