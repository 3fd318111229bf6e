// The bunker plugin: assembles keyring, channels, acl and admin RPC on the relay's host API, and
// boots: the admin identity and every key that can be unlocked are registered before start()
// resolves, so the bunker:// line is never printed before the bunker can hear.
import { join } from 'node:path'
import type { RootDatabase } from 'lmdb'
import type { Hooks, NostrEvent } from '../../relay/relay.ts'
import { openAccounts, type AccountSettings, type Accounts, defaultAccountSettings } from './accounts.ts'
import { createAdmin } from './admin.ts'
import { createApprovalLinks, type ApprovalLinks, type PendingApproval } from './approval-links.ts'
import { ADMIN_KIND, createApprovals, type ApprovalMode } from './approvals.ts'
import { createChannel, type Channel, type Identity, type Log, type RelayHost } from './channel.ts'
import { createCipher, type Scheme } from './crypto.ts'
import { createKeyring, NIP46_KIND, type Keyring } from './keyring.ts'
import { createNip46 } from './nip46.ts'
import type { RelayLinks } from './nostrconnect.ts'
import { publicKeyOf, signEvent, type Template } from './sign.ts'
import { createScryptPool, type ScryptPool } from './scrypt-pool.ts'
import { openBunkerState, type BunkerState } from './state.ts'
import { createTokenSeal, sealLegacyTokens } from './token-seal.ts'
import { createUnlockGuard } from './unlock-guard.ts'
import { loadAdminKey, openVault, type VaultKey } from './vault.ts'
import { createWireStats, defaultWireSettings, type WireSettings, type WireStats } from './wire.ts'

export interface BunkerOptions {
  relay: RelayHost
  env: RootDatabase
  /** Directory for the admin key file. */
  dataDir: string
  /** Admin pubkeys, hex. */
  admins: string[]
  vaultSecret?: string
  /** scrypt cost of NIP-49 (2^logN); 16 is NIP-49's own default. */
  scryptLogN?: number
  /** Worker threads that run scrypt (never libuv's pool, which LMDB commits need). */
  scryptWorkers?: number
  /** scrypt jobs that may wait for a worker; past that, key creation and unlocking answer rate-limited. */
  scryptQueue?: number
  /** Failed unlock_key attempts allowed per key and minute. */
  unlockFailuresPerMinute?: number
  aclTimeoutMs?: number
  /** Approve every unknown client and request without asking the admins. Off by default. */
  autoApprove?: boolean
  requestWindowSeconds?: number
  /** Relays for switch_relays; empty answers "null". */
  switchRelays?: () => string[]
  log: Log
  observe?: (method: string, outcome: 'ok' | 'error', seconds: number) => void
  /** The relay bridge: opens a nostrconnect:// client's relays for a key. */
  links?: RelayLinks
  /** The account provider (create_account, names, NIP-89); off unless settings.enabled. */
  accounts?: { settings: AccountSettings; hooks?: Pick<Hooks, 'onAccepted'>; relayUrls: () => string[] }
  /**
   * How unknown clients are approved (default acl only). With a page (mode page or both), each
   * question gets a URL under `baseUrl()` that expires after `expiryMs`; `announce` hears of each.
   */
  approval?: { mode: ApprovalMode; baseUrl: () => string; expiryMs: number; announce?: (a: PendingApproval) => void }
  /** Rate limit, replay memory and approval queue bounds (wire.ts); `stats` receives their counters. */
  wire?: Partial<WireSettings>
  stats?: WireStats
}

export interface Bunker {
  readonly adminPubkey: string
  readonly keyring: Keyring
  readonly state: BunkerState
  readonly accounts: Accounts
  /** The approval page's pending approvals; undefined when the mode is acl. */
  readonly approvalLinks?: ApprovalLinks
  /** bunker://<admin hex>?relay=<url>&relay=... */
  connectionString(relayUrls: string[]): string
  /** Signs as the admin identity (NIP-42 AUTH to the bridge's upstream relays). */
  signAsAdmin(t: Template): NostrEvent
  /**
   * Publishes what the bunker announces at boot (the account provider's NIP-89 events); call it once
   * the bridge listens, so the upstreams get them too.
   */
  announce(): Promise<void>
  close(): Promise<void>
}

export async function startBunker(opts: BunkerOptions): Promise<Bunker> {
  const logn = opts.scryptLogN ?? 16
  const pool = createScryptPool({ workers: opts.scryptWorkers ?? 1, maxQueue: opts.scryptQueue ?? 16 })
  try {
    return await boot(opts, logn, pool)
  } catch (err) {
    await pool.close()
    throw err
  }
}

async function boot(opts: BunkerOptions, logn: number, pool: ScryptPool): Promise<Bunker> {
  const windowSeconds = opts.requestWindowSeconds ?? 300
  const scrypt = pool.derive
  const adminSk = await loadAdminKey(join(opts.dataDir, 'bunker-admin.key'), opts.vaultSecret, logn, scrypt)
  const admin: Identity = { name: 'admin', sk: adminSk, pubkey: publicKeyOf(adminSk) }
  const state = openBunkerState(opts.env, createTokenSeal(adminSk))
  const sealed = await sealLegacyTokens(state)
  if (sealed > 0) opts.log.info({ tokens: sealed }, 'token secrets stored as hashes')
  let vault: VaultKey | undefined
  if (opts.vaultSecret) {
    const v = await openVault(opts.vaultSecret, state.vault, logn, scrypt)
    vault = v.key
    if (!state.vault) {
      state.setVault(v.params)
      await state.commit()
    }
  }
  const cipher = createCipher()
  const wire = { ...defaultWireSettings, ...opts.wire }
  const stats = opts.stats ?? createWireStats()
  const channel = createChannel({ relay: opts.relay, cipher, log: opts.log, observe: opts.observe, windowSeconds, wire, stats })
  const adminSchemes = new Map<string, Scheme>()
  const admins = () => opts.admins
  const mode = opts.approval?.mode ?? 'acl'
  const approvalLinks =
    opts.approval && mode !== 'acl'
      ? createApprovalLinks({
          baseUrl: opts.approval.baseUrl,
          expiryMs: opts.approval.expiryMs,
          rememberFinished: 4 * wire.maxPendingApprovals,
          keyPubkey: (name) => state.keys.get(name)?.pubkey,
          audit: (entry) => state.audit(entry),
          commit: () => state.commit(),
          announce: opts.approval.announce,
        })
      : undefined
  const approvals = createApprovals({
    channel,
    admin: () => admin,
    admins,
    schemeOf: (a) => adminSchemes.get(a) ?? 'nip44',
    timeoutMs: opts.aclTimeoutMs ?? 10_000,
    maxPending: wire.maxPendingApprovals,
    stats,
    autoApprove: opts.autoApprove,
    mode,
    links: approvalLinks,
  })
  const nip46Over = (channel: Channel) => createNip46({ state, channel, cipher, approvals, log: opts.log, relays: opts.switchRelays ?? (() => []) })
  const nip46 = nip46Over(channel)
  const accounts = await openAccounts({
    settings: opts.accounts?.settings ?? defaultAccountSettings,
    hooks: opts.accounts?.hooks,
    relayUrls: opts.accounts?.relayUrls ?? (() => []),
    state,
    vault,
    vaultSecret: opts.vaultSecret,
    scryptLogN: logn,
    scrypt,
    channel,
    cipher,
    relay: opts.relay,
    admin,
    dataDir: opts.dataDir,
    log: opts.log,
    nip46Over,
  })
  const keyring = createKeyring(opts.relay, accounts.route(nip46))
  const onAdmin = createAdmin(
    {
      state,
      keyring,
      vault,
      scryptLogN: logn,
      scrypt,
      unlockGuard: createUnlockGuard(opts.unlockFailuresPerMinute ?? 5),
      channel,
      approvals,
      log: opts.log,
      admins,
      noteScheme: (a, s) => adminSchemes.set(a, s),
      accounts,
      links: opts.links,
    },
    admin,
  )
  const adminSub = opts.relay.subscribe([{ kinds: [NIP46_KIND, ADMIN_KIND], '#p': [admin.pubkey] }], onAdmin)
  opts.relay.addNips(46)

  let unlocked = 0
  if (vault) {
    for (const k of state.keys.values()) {
      if (!k.vaultWrapped) continue
      keyring.register(k.name, vault.unwrap(k.vaultWrapped))
      unlocked++
    }
  }
  accounts.start(keyring)
  if (opts.admins.length === 0) opts.log.warn({}, 'no admins configured (--admin): nobody can create or unlock keys')
  if (opts.autoApprove) opts.log.warn({}, 'bunker.autoApprove is on: every client and request is approved without asking')
  opts.log.info({ keys: state.keys.size, unlocked, admins: opts.admins.length }, 'bunker started')

  return {
    adminPubkey: admin.pubkey,
    keyring,
    state,
    accounts,
    approvalLinks,
    signAsAdmin: (t) => signEvent(t, admin.sk, admin.pubkey),
    announce: () => accounts.announce(),
    connectionString: (urls) => `bunker://${admin.pubkey}?${urls.map((u) => `relay=${encodeURIComponent(u)}`).join('&')}`,
    async close() {
      adminSub.close()
      accounts.close()
      for (const k of state.keys.keys()) keyring.unregister(k)
      await state.commit() // writes staged for a coalesced commit
      await pool.close()
    },
  }
}
