// The LNbits importer's target (src/import/lnbits/apply.ts) on the hosted relays' records and stores:
// relays upserted (a relay already here keeps its keyspace, so its events stay), accounts upserted,
// events written to the relay's store as the relay would write them (replacement, NIP-09 deletion)
// but without the storage quota: LNbits already accepted them. An event already held answers
// `duplicate:`, so a second run writes nothing new. Needs no running relay: the server reads the
// records when it starts.
import type { RootDatabase } from 'lmdb'
import type { NostrEvent } from '../../relay/event.ts'
import { openStore, type EventStore } from '../../relay/store/store.ts'
import type { LnbitsTarget } from '../import/lnbits/apply.ts'
import { openRelayRecords } from './records.ts'
import { newRecord } from './registry.ts'
import { hexPubkey } from '../pubkey.ts'

/** The seven NIP-01 fields in their canonical order: the JSON the relay itself stores. */
const canonical = (e: NostrEvent): string =>
  JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig })

export function relaysTarget(env: RootDatabase): LnbitsTarget {
  const records = openRelayRecords(env)
  const stores = new Map<string, EventStore>()
  const storeOf = (relayId: string): EventStore => {
    let store = stores.get(relayId)
    if (!store) {
      const rec = records.get(relayId)
      if (!rec) throw new Error(`no relay ${JSON.stringify(relayId)}`)
      stores.set(relayId, (store = openStore(env, { keyspace: rec.ks })))
    }
    return store
  }
  return {
    async putRelay(id, settings, info) {
      const fields = {
        name: info.name,
        description: info.description ?? '',
        pubkey: hexPubkey(info.pubkey ?? '') ?? (info.pubkey ?? '').trim(),
        contact: info.contact ?? '',
        active: info.active,
        userId: info.userId ?? '',
        settings,
      }
      const old = records.get(id)
      if (old) await records.put({ ...old, ...fields })
      else await records.create(newRecord(id, fields))
    },
    putAccount: (relayId, account) => records.putAccount(relayId, account),
    saveEvent: (relayId, event) => storeOf(relayId).save(event, canonical(event)),
  }
}
