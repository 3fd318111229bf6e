// The account provider: NIP-46 `create_account [username, domain, email?]` sent to the provider
// identity (the admin key, or a key of its own) makes a key for a stranger, names it
// `username@domain`, and makes the asking client a user of it. The key is committed and registered
// in the dispatch table before the reply with its pubkey is written, so the connect nostr-tools
// sends at once is always heard. Also here: the names document, the NIP-89 announcement, and the
// provider wire for the creators' signers (provider-wire.ts).
import { join } from 'node:path'
import { generateSecretKey } from 'nostr-tools/pure'
import type { Hooks, NostrEvent } from '../../relay/relay.ts'
import { addUser, grantPolicy } from './acl.ts'
import { holderOf, nameAdminMethods, nameProblem, PROVIDER_NAME, type NameRules } from './account-names.ts'
import { busyOr, fail, storeNewKey, type AdminMethod } from './admin-keys.ts'
import { ADMIN_KIND } from './approvals.ts'
import type { Channel, Identity, Inbound, Log, RelayHost } from './channel.ts'
import type { Cipher } from './crypto.ts'
import { NIP46_KIND, type Keyring } from './keyring.ts'
import { nip05Document, type Nip05Request } from './nip05.ts'
import { announceProvider } from './nip89.ts'
import { providerWire, routeRequests } from './provider-wire.ts'
import { createCreationLimit } from './creation-limit.ts'
import { watchRequestOrigins, type RequestOrigins } from './request-origin.ts'
import type { Reply } from './rpc.ts'
import { publicKeyOf } from './sign.ts'
import type { Scrypt } from './scrypt-pool.ts'
import type { BunkerState, KeyRecord, Policy } from './state.ts'
import { loadAdminKey, type VaultKey } from './vault.ts'

export interface AccountSettings {
  enabled: boolean
  /** Domains names are served and created on, lowercase. */
  domains: string[]
  /** Who receives create_account and signs the NIP-89 event: the admin key, or a key of its own. */
  provider: 'admin' | 'own'
  /** NIP-89 profile. */
  name: string
  picture?: string
  about?: string
  /** Policy whose rules the creating client gets; none: session methods only. */
  policyId?: number
  /** What a requested name must also match (after NIP-05's own rules). */
  namePattern: string
  reservedNames: string[]
  /** Accounts per source address per hour, and for everybody per hour; 0: no bound. */
  perIpPerHour: number
  perHour: number
  /** Keys create_account may make in all. */
  maxAccounts: number
  /** Creations in flight at once (each is one scrypt). */
  maxPending: number
  /** The creating client is not made a user: its first connect waits for an admin. */
  approveFirstConnect: boolean
}

export const defaultAccountSettings: AccountSettings = {
  enabled: false,
  domains: [],
  provider: 'admin',
  name: 'nsecrelay',
  namePattern: '^[a-z0-9][a-z0-9._-]{0,31}$',
  reservedNames: ['admin', 'administrator', 'root', 'abuse', 'postmaster', 'hostmaster', 'webmaster', 'support', 'security', 'noreply', 'nostr'],
  perIpPerHour: 5,
  perHour: 100,
  maxAccounts: 10_000,
  maxPending: 8,
  approveFirstConnect: false,
}

type OnRequest = (identity: Identity, event: NostrEvent) => void

export interface AccountsDeps {
  settings: AccountSettings
  state: BunkerState
  vault?: VaultKey
  /** The passphrase of account keys' ncryptsec: accounts need a vault secret. */
  vaultSecret?: string
  scryptLogN: number
  channel: Channel
  cipher: Cipher
  relay: RelayHost
  /** For per-address limits; without it only the global limit applies. */
  hooks?: Pick<Hooks, 'onAccepted'>
  admin: Identity
  dataDir: string
  log: Log
  /** The bunker's scrypt pool (key creation). */
  scrypt: Scrypt
  /** Where the signer listens, for nostr.json's nip46. */
  relayUrls: () => string[]
  /** A NIP-46 handler speaking over the given channel (for the provider wire). */
  nip46Over: (channel: Channel) => OnRequest
}

export interface Accounts {
  readonly provider: Identity
  /** create_account, from whichever subscription heard it (the admin's or the provider's own). */
  createAccount(inbound: Inbound, params: string[]): Reply | Promise<Reply>
  /** set_key_name, remove_key_name, get_key_names. */
  readonly adminMethods: Record<string, AdminMethod>
  /** The keyring's request handler: `direct`, or the provider wire for a key's creator. */
  route(direct: OnRequest): OnRequest
  /** Once the keyring exists: the provider's own subscription. */
  start(keyring: Keyring): void
  /** Publishes the NIP-89 events: once whatever forwards local events (the bridge) listens. */
  announce(): Promise<void>
  /** The body of /.well-known/nostr.json. */
  wellKnown(req: Nip05Request): string
  close(): void
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/

export async function openAccounts(deps: AccountsDeps): Promise<Accounts> {
  const { settings, state, log } = deps
  if (settings.enabled && !deps.vaultSecret)
    throw new Error('bunker.accounts.enabled needs a vault secret (NSECRELAY_VAULT_SECRET): account keys are encrypted under it')
  if (settings.enabled && settings.domains.length === 0) throw new Error('bunker.accounts.enabled needs at least one domain in bunker.accounts.domains')
  const provider =
    settings.enabled && settings.provider === 'own'
      ? await ownProvider(join(deps.dataDir, 'bunker-provider.key'), deps.vaultSecret!, deps.scryptLogN, deps.scrypt)
      : deps.admin
  const rules: NameRules = {
    domains: settings.domains,
    pattern: new RegExp(settings.namePattern),
    reserved: new Set(settings.reservedNames.map((n) => n.toLowerCase())),
  }
  const limit = createCreationLimit({ perSource: settings.perIpPerHour, global: settings.perHour, periodMs: 3_600_000 })
  const origins: RequestOrigins | undefined =
    settings.enabled && deps.hooks ? watchRequestOrigins(deps.hooks, [NIP46_KIND, ADMIN_KIND], provider.pubkey) : undefined
  /** Names being created (scrypt running): taken for everybody else. */
  const pending = new Set<string>()
  let keyring: Keyring | undefined
  let providerSub: { close(): void } | undefined

  const accountCount = (): number => {
    let count = 0
    for (const n of state.names.values()) if (n.creator && state.keys.has(n.keyName)) count++
    return count
  }

  function makeUser(keyName: string, client: string, policy: Policy | undefined, now: number): void {
    const user = addUser(state, keyName, client, 'created this account', now)
    if (policy) grantPolicy(state, user.id, policy)
  }

  async function create(id: string, client: string, policy: Policy | undefined): Promise<Reply> {
    if (!keyring) throw new Error('accounts used before start()')
    pending.add(id)
    try {
      const keyDeps = { state, keyring, vault: deps.vault, scryptLogN: deps.scryptLogN, scrypt: deps.scrypt }
      let record: KeyRecord | undefined
      try {
        record = await storeNewKey(keyDeps, id, generateSecretKey(), deps.vaultSecret!, (key) => {
          state.remove('name', id) // a name a deleted key left behind
          state.put('name', { id, keyName: id, createdAt: key.createdAt, creator: client })
          if (!settings.approveFirstConnect) makeUser(id, client, policy, key.createdAt)
          state.audit({ at: key.createdAt, event: 'account_created', key: id, client })
        })
      } catch (err) {
        return busyOr(err) // a full scrypt queue answers rate-limited at once
      }
      if (!record) return fail(`duplicate: ${id} is taken`)
      // storeNewKey registered the key: it is in the dispatch table before this reply is written.
      // Bridge hook point: this reply announces record.pubkey to the upstreams.
      return { result: record.pubkey }
    } finally {
      pending.delete(id)
    }
  }

  /** Checks in order of cost; a refusal changes nothing (only a full provider spends a token). */
  function createAccount(inbound: Inbound, params: string[]): Reply | Promise<Reply> {
    const source = origins?.take(inbound.event.id)
    if (!settings.enabled) return fail('restricted: this bunker does not create accounts')
    if (inbound.identity.pubkey !== provider.pubkey) return fail(`restricted: accounts are created by ${provider.pubkey}`)
    const [username, domainParam, email] = params
    const domain = (domainParam ?? '').toLowerCase()
    if (!rules.domains.includes(domain)) return fail('invalid: this provider makes no names on that domain')
    const local = (username ?? '').toLowerCase()
    const problem = nameProblem(local, rules)
    if (problem) return fail(`invalid: ${problem}`)
    if (email && (email.length > 254 || !EMAIL.test(email))) return fail('invalid: that is not an email address')
    const id = `${local}@${domain}`
    if (pending.has(id) || holderOf(state, id) || state.keys.has(id)) return fail(`duplicate: ${id} is taken`)
    const policy = settings.policyId === undefined ? undefined : state.policies.get(settings.policyId)
    if (settings.policyId !== undefined && !policy) {
      log.error({ policyId: settings.policyId }, 'bunker.accounts.policyId names no policy: create_account refused')
      return fail('error: this provider is misconfigured; try again later')
    }
    if (pending.size >= settings.maxPending) return fail('rate-limited: too many accounts are being created right now; try again')
    if (!limit.take(source)) return fail('rate-limited: too many accounts created; try again later')
    if (accountCount() >= settings.maxAccounts) return fail('restricted: this provider takes no more accounts') // O(names): after the limit
    return create(id, inbound.event.pubkey, policy)
  }

  /** The provider's own key hears create_account and ping; it administers nothing. */
  function onProviderEvent(event: NostrEvent): void {
    const inbound = deps.channel.open(provider, event)
    if (!inbound || inbound.msg.type === 'response') return
    if (!deps.channel.admit(inbound, 'stranger')) return // the window, replays, the rate limit
    if (inbound.msg.type === 'invalid') return deps.channel.answerInvalid(inbound)
    const { method, params } = inbound.msg.req
    deps.channel.respond(inbound, method === 'create_account' || method === 'ping' ? method : 'other', () => {
      if (method === 'create_account') return createAccount(inbound, params)
      if (method === 'ping') return { result: 'pong' }
      return fail(`Unknown method ${method}`)
    })
  }

  return {
    provider,
    createAccount,
    adminMethods: nameAdminMethods(state, () => rules),
    route(direct) {
      const viaProvider = deps.nip46Over(providerWire(deps.channel, () => provider))
      // an account key is named after its name record, which remembers who created it
      const creatorOf = (key: Identity) => {
        const n = state.names.get(key.name)
        return n?.keyName === key.name ? n.creator : undefined
      }
      return routeRequests({ direct, viaProvider, cipher: deps.cipher, provider: () => provider, creatorOf })
    },
    start(k) {
      keyring = k
      if (!settings.enabled) return
      if (provider !== deps.admin) providerSub = deps.relay.subscribe([{ kinds: [NIP46_KIND], '#p': [provider.pubkey] }], onProviderEvent)
      log.info({ domains: settings.domains, provider: provider.pubkey, accounts: accountCount() }, 'account provider started')
    },
    async announce() {
      if (settings.enabled) await announceProvider(deps.relay, provider, settings, settings.domains, log)
    },
    wellKnown: (req) =>
      nip05Document(
        {
          domains: () => rules.domains,
          lookup(local, domain) {
            if (local === PROVIDER_NAME) return settings.enabled ? provider.pubkey : undefined
            const n = holderOf(state, `${local}@${domain}`)
            return n && state.keys.get(n.keyName)!.pubkey
          },
          relays: deps.relayUrls,
        },
        req,
      ),
    close() {
      providerSub?.close()
    },
  }
}

async function ownProvider(path: string, vaultSecret: string, logn: number, scrypt: Scrypt): Promise<Identity> {
  const sk = await loadAdminKey(path, vaultSecret, logn, scrypt) // same treatment as the admin key file
  return { name: 'provider', sk, pubkey: publicKeyOf(sk) }
}
