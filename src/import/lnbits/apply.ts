// The writing half of the LNbits import: consumes the records of `readLnbits` and writes them
// through a target, counting everything into a summary. With no target (a dry run) nothing is
// written and the summary says what would be. Re-running an import is harmless when the target
// upserts relays and accounts and answers an event it already holds with a `duplicate:` reason.
import type { NostrEvent } from '../../../relay/event.ts'
import type { LnbitsAccount, LnbitsRecord, LnbitsRelayInfo, Refusal } from './read.ts'
import type { LnbitsRelaySettings } from './settings.ts'
import { emptyRelaySummary, type LnbitsSummary } from './summary.ts'

/** What the target's event store answered; the relay store's SaveResult has this shape. */
export type EventWriteOutcome = { ok: true } | { ok: false; reason: string }

export interface LnbitsTarget {
  /** Creates or replaces the relay `id` (served at /nostrrelay/<id>). */
  putRelay(id: string, settings: LnbitsRelaySettings, info: LnbitsRelayInfo): Promise<void> | void
  /** Creates or replaces the account (relay, pubkey). */
  putAccount(relayId: string, account: LnbitsAccount): Promise<void> | void
  /** Stores a verified event. `publisher`: who sent it to LNbits (the AUTH pubkey), usually the author. */
  saveEvent(relayId: string, event: NostrEvent, meta: { publisher: string }): Promise<EventWriteOutcome> | EventWriteOutcome
}

export interface ApplyOptions {
  /** Called with every refusal as it happens (the CLI prints them). */
  onRefusal?: (refusal: Refusal) => void
  /** How many refusals the summary keeps verbatim (default 100); all are counted. */
  keepRefusals?: number
}

export async function applyLnbits(records: AsyncIterable<LnbitsRecord>, target: LnbitsTarget | null, opts: ApplyOptions = {}): Promise<LnbitsSummary> {
  const keep = opts.keepRefusals ?? 100
  const summary: LnbitsSummary = { source: '', dryRun: target === null, relays: [], refusedRelays: [], orphanEvents: [], refusals: [], refusalsNotKept: 0 }
  const relays = new Map<string, LnbitsSummary['relays'][number]>()
  const refuse = (r: Refusal) => {
    opts.onRefusal?.(r)
    if (r.table === 'relays') return void summary.refusedRelays.push(r)
    const s = relays.get(r.relayId)!
    if (r.table === 'accounts') s.accounts.refused++
    else {
      s.events.refused++
      s.events.refusedByCode[r.code] = (s.events.refusedByCode[r.code] ?? 0) + 1
    }
    if (summary.refusals.length < keep) summary.refusals.push(r)
    else summary.refusalsNotKept++
  }

  for await (const rec of records) {
    switch (rec.type) {
      case 'source':
        summary.source = rec.label
        break
      case 'relay': {
        const { relay } = rec
        await target?.putRelay(relay.id, relay.settings, relay.info)
        const s = emptyRelaySummary(relay)
        relays.set(relay.id, s)
        summary.relays.push(s)
        break
      }
      case 'account':
        await target?.putAccount(rec.relayId, rec.account)
        relays.get(rec.relayId)!.accounts.imported++
        break
      case 'event': {
        const s = relays.get(rec.relayId)!.events
        const outcome = target ? await target.saveEvent(rec.relayId, rec.event, { publisher: rec.publisher }) : { ok: true as const }
        if (outcome.ok) {
          s.imported++
          if (rec.repaired) s.repaired++
        } else if (outcome.reason.startsWith('duplicate:')) s.alreadyPresent++
        else refuse({ table: 'events', relayId: rec.relayId, rowId: rec.event.id, code: 'target', reason: outcome.reason })
        break
      }
      case 'deleted':
        relays.get(rec.relayId)!.events.deletedByKind5++
        break
      case 'soft-deleted':
        relays.get(rec.relayId)!.events.softDeleted = rec.count
        break
      case 'refused':
        refuse(rec.refusal)
        break
      case 'orphans':
        summary.orphanEvents.push({ relayId: rec.relayId, events: rec.events })
        break
    }
  }
  return summary
}
