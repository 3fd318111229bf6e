// The relays this process serves: the default relay at "/" and any number of LNbits-style relays at
// /nostrrelay/<id>, each a relay value (relay/relay.ts) with its own store keyspace, settings,
// subscribers, NIP-11 and policy, all on one runtime (signature checks, purge timer) and one LMDB
// environment. Records persist in LMDB (records.ts); changes apply live.
import type { RootDatabase } from 'lmdb'
import { createRelay, type Limits, type QuerySettings, type Relay, type RelayRuntime } from '../../relay/relay.ts'
import { openStore, type EventStore } from '../../relay/store/store.ts'
import { buildPolicy, installPolicy, nip11Of, queryLimits, quotaOf, type RelayPolicy } from './policy.ts'
import { openRelayRecords, type RelayRecords } from './records.ts'
import { relayIdOf, relayPath, relayUrls, type RelayRecord } from './settings.ts'

export interface Hosted {
  readonly id: string
  readonly path: string
  readonly relay: Relay
  readonly store: EventStore
  readonly record: RelayRecord
  /** Its public URLs (NIP-42, bunker:// strings, NIP-98 `u`). */
  urls(): string[]
}

export interface RegistryOptions {
  env: RootDatabase
  runtime: RelayRuntime
  /** The relay at "/", built by the app from the config. */
  defaultRelay: { relay: Relay; store: EventStore }
  /** The config's limits: every hosted relay's base, which its own settings only narrow. */
  limits: Limits
  query?: Partial<QuerySettings>
  /** Public URLs of "/"; read when needed (known once the server listens). */
  baseUrls: () => string[]
  maxRelays: number
  onError: (err: unknown, where: string) => void
}

/** What a create or update may set; settings are validated by the caller (patchSettings). */
export type RecordPatch = Partial<Omit<RelayRecord, 'id' | 'ks' | 'createdAt'>>

export interface Registry {
  readonly records: RelayRecords
  route(path: string): Relay | undefined
  get(id: string): Hosted | undefined
  of(relay: Relay): Hosted | undefined
  list(): Hosted[]
  create(id: string, init: RecordPatch): Promise<Hosted>
  /** Applies a change to the record, live: policy, limits, NIP-11; switching it off closes its clients. */
  update(id: string, patch: RecordPatch): Promise<Hosted>
  /** Disconnects its clients and deletes its record, accounts and events. */
  remove(id: string): Promise<void>
  /** A relay that may not be deleted or switched off (the bunker's), with the reason. */
  protect(id: string, reason: string): void
  close(): void
}

interface Entry extends Hosted {
  record: RelayRecord
  policy?: RelayPolicy
}

export const newRecord = (id: string, patch: RecordPatch): Omit<RelayRecord, 'ks'> => ({
  id,
  name: id,
  description: '',
  pubkey: '',
  contact: '',
  icon: '',
  active: true,
  userId: '',
  allowedKinds: null,
  deniedKinds: [],
  createdAt: Math.floor(Date.now() / 1000),
  ...patch,
})

/** Opens the registry and starts every relay it records. */
export async function openRegistry(opts: RegistryOptions): Promise<Registry> {
  const records = openRelayRecords(opts.env)
  const entries = new Map<string, Entry>()
  const byRelay = new Map<Relay, Entry>()
  const protectedIds = new Map<string, string>()
  const windows = new WeakMap()

  /** Policy, query limits and NIP-11 identity from the record, swapped in live. */
  function apply(entry: Entry): void {
    const next = buildPolicy(entry.record, { records, windows })
    installPolicy(entry.relay.hooks, entry.policy, next)
    entry.policy = next
    const r = entry.record
    if (r.id !== '') Object.assign(entry.relay.limits, queryLimits(r, opts.limits))
    entry.relay.setInfo({ name: r.name, description: r.description, pubkey: r.pubkey || undefined, contact: r.contact || undefined, icon: r.icon || undefined })
  }

  function add(record: RelayRecord, relay: Relay, store: EventStore): Entry {
    const entry: Entry = { id: record.id, path: relayPath(record.id), relay, store, record, urls: () => relayUrls(opts.baseUrls(), record.id) }
    entries.set(record.id, entry)
    byRelay.set(relay, entry)
    apply(entry)
    return entry
  }

  function host(record: RelayRecord): Entry {
    let entry: Entry | undefined
    const store = openStore(opts.env, {
      keyspace: record.ks,
      quota: (pubkey) => (entry ? quotaOf(entry.record, records.account(record.id, pubkey)) : undefined),
    })
    const relay = createRelay({
      store,
      runtime: opts.runtime,
      runtimeKey: `${record.ks}:`,
      limits: { ...opts.limits },
      query: opts.query,
      // with a domain set, the AUTH relay tag's host is checked against it instead (policy.ts)
      urls: () => (entry?.record.settings?.domain ? [] : relayUrls(opts.baseUrls(), record.id)),
      nip11: () => (entry ? nip11Of(entry.record, opts.limits) : {}),
      onError: opts.onError,
    })
    entry = add(record, relay, store)
    return entry
  }

  async function loadDefault(): Promise<RelayRecord> {
    const doc = opts.defaultRelay.relay.info()
    return records.get('') ?? (await records.create(newRecord('', { name: doc.name as string, description: doc.description as string })))
  }

  const registry: Registry = {
    records,
    route(path) {
      const id = relayIdOf(path)
      return id === undefined ? undefined : entries.get(id)?.relay
    },
    get: (id) => entries.get(id),
    of: (relay) => byRelay.get(relay),
    list: () => [...entries.values()],
    async create(id, init) {
      if (entries.size - 1 >= opts.maxRelays) throw new Error(`restricted: this server hosts its maximum of ${opts.maxRelays} relays`)
      return host(await records.create(newRecord(id, init)))
    },
    async update(id, patch) {
      const entry = entries.get(id)
      if (!entry) throw new Error(`invalid: no relay ${JSON.stringify(id)}`)
      if (id === '' && patch.settings) throw new Error('invalid: the default relay takes its settings from the config file')
      const why = id === '' ? 'it is the default relay' : protectedIds.get(id)
      if (why && patch.active === false) throw new Error(`invalid: relay ${JSON.stringify(id)} cannot be switched off: ${why}`)
      const wasActive = entry.record.active
      const record = { ...entry.record, ...patch, id, ks: entry.record.ks }
      await records.put(record)
      entry.record = record
      apply(entry)
      if (wasActive && !record.active) entry.relay.disconnectAll(`Relay '${id}' has been deactivated.`)
      return entry
    },
    async remove(id) {
      const entry = entries.get(id)
      if (!entry) throw new Error(`invalid: no relay ${JSON.stringify(id)}`)
      if (id === '') throw new Error('invalid: the default relay cannot be deleted')
      const why = protectedIds.get(id)
      if (why) throw new Error(`invalid: relay ${JSON.stringify(id)} cannot be deleted: ${why}`)
      entries.delete(id) // unknown from here on: new upgrades get 404
      byRelay.delete(entry.relay)
      entry.relay.disconnectAll(`Relay '${id}' has been deleted.`)
      entry.relay.close()
      await records.remove(id)
      await entry.store.drop()
    },
    protect(id, reason) {
      protectedIds.set(id, reason)
    },
    close() {
      for (const e of entries.values()) if (e.id !== '') e.relay.close()
    },
  }

  add(await loadDefault(), opts.defaultRelay.relay, opts.defaultRelay.store)
  for (const rec of records.all()) if (rec.id !== '') host(rec)
  return registry
}
