// NIP-05 names of keys (`local@domain`), served at /.well-known/nostr.json: the rules a name meets,
// who holds it, and the admin methods that set and remove names. The local part follows NIP-05
// (a-z 0-9 - _ ., case-insensitive: kept lowercase); the domain must be one the settings serve.
import { nip19 } from 'nostr-tools'
import { fail, ok, type AdminMethod } from './admin-keys.ts'
import type { BunkerState, NameRecord } from './state.ts'

/** The provider's own name on each domain (NIP-46: clients check `_` against the NIP-89 author). */
export const PROVIDER_NAME = '_'
/** NIP-05's local-part alphabet; 64 is the mail local-part bound, and bounds what we look up. */
const LOCAL_PART = /^[a-z0-9._-]{1,64}$/
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/

export interface NameRules {
  domains: readonly string[]
  /** What a name chosen by a stranger (create_account) must also match. */
  pattern: RegExp
  reserved: ReadonlySet<string>
}

export const isLocalPart = (local: string): boolean => LOCAL_PART.test(local)
export const isDomain = (domain: string): boolean => domain.length <= 253 && DOMAIN.test(domain)

/** Splits `local@domain` (lowercased); undefined when either half is malformed. */
export function parseAddress(text: unknown): { local: string; domain: string; id: string } | undefined {
  if (typeof text !== 'string' || text.length > 320) return undefined
  const at = text.lastIndexOf('@')
  const local = text.slice(0, at).toLowerCase()
  const domain = text.slice(at + 1).toLowerCase()
  if (at < 1 || !isLocalPart(local) || !isDomain(domain)) return undefined
  return { local, domain, id: `${local}@${domain}` }
}

/** Why a stranger may not take `local` (already lowercased), or undefined. */
export function nameProblem(local: string, rules: NameRules): string | undefined {
  if (!isLocalPart(local)) return 'a name is 1 to 64 of a-z 0-9 . _ -'
  if (local === PROVIDER_NAME || rules.reserved.has(local)) return 'that name is reserved'
  if (!rules.pattern.test(local)) return 'that name does not match the names this provider hands out'
  return undefined
}

/** The record holding `id`, unless its key is gone (then the name is free again). */
export function holderOf(state: BunkerState, id: string): NameRecord | undefined {
  const n = state.names.get(id)
  return n && state.keys.has(n.keyName) ? n : undefined
}

/** Admin methods: set_key_name [keyName, "name@domain"], remove_key_name ["name@domain"], get_key_names [keyName?]. */
export function nameAdminMethods(state: BunkerState, rules: () => NameRules): Record<string, AdminMethod> {
  return {
    async set_key_name([keyName, address]) {
      if (!state.keys.has(keyName ?? '')) return fail(`no key named ${keyName}`)
      const a = parseAddress(address)
      if (!a) return fail('set_key_name needs a name@domain with a NIP-05 local part')
      if (!rules().domains.includes(a.domain)) return fail(`this bunker serves no names on ${a.domain}`)
      if (a.local === PROVIDER_NAME) return fail(`${PROVIDER_NAME} is the provider's own name`)
      const held = holderOf(state, a.id)
      if (held?.keyName === keyName) return ok(['ok'])
      if (held) return fail(`${a.id} is taken`)
      const now = Date.now()
      state.remove('name', a.id) // a name left by a deleted key: drop it from that key's index
      state.put('name', { id: a.id, keyName, createdAt: now })
      state.audit({ at: now, event: 'name_set', key: keyName, name: a.id })
      await state.commit()
      return ok(['ok'])
    },

    async remove_key_name([address]) {
      const a = parseAddress(address)
      if (!a || !state.names.has(a.id)) return fail(`no name ${address}`)
      state.remove('name', a.id)
      state.audit({ at: Date.now(), event: 'name_removed', name: a.id })
      await state.commit()
      return ok(['ok'])
    },

    get_key_names([keyName]) {
      const list = keyName ? state.namesOf(keyName) : [...state.names.values()]
      return ok(
        list
          .filter((n) => state.keys.has(n.keyName))
          .map((n) => ({
            name: n.id,
            key: n.keyName,
            npub: nip19.npubEncode(state.keys.get(n.keyName)!.pubkey),
            createdAt: new Date(n.createdAt).toISOString(),
            by: n.creator ? 'create_account' : 'admin',
          })),
      )
    },
  }
}
