// nostrconnect:// (client-initiated connections). A client shows
// `nostrconnect://<client pubkey>?relay=...&secret=...&perms=...&name=...`; an admin hands it to the
// bunker with `connect_nostrconnect [keyName, uri, policyId?]`. The bunker adds the client as a user
// of the key (with the policy's rules, else the URI's perms), has the relay bridge open the URI's
// relays as upstreams for that key, and sends the connect response carrying the secret there. The
// bridge holds that response on each of those relays until it has confirmed a subscription for the
// key (it is an event authored by the key: see src/bridge). Everything is checked before anything
// changes: a bad URI gets an error reply and leaves no trace.
import { randomBytes } from 'node:crypto'
import { addUser, dropPermissions, grant, grantPolicy } from './acl.ts'
import { fail, ok, type AdminMethod } from './admin-keys.ts'
import type { Channel } from './channel.ts'
import type { Keyring } from './keyring.ts'
import type { BunkerState, Policy } from './state.ts'

/** What the bunker needs of the relay bridge (src/bridge implements it). */
export interface RelayLinks {
  /**
   * Listens for `pubkey` on these relays from now on (and after restarts) and publishes its events
   * there; returns the relays newly linked (ours and configured upstreams are already covered).
   * Throws an Error with a readable message, having changed nothing, when it cannot.
   */
  link(pubkey: string, urls: string[]): string[]
}

export interface NostrconnectDeps {
  state: BunkerState
  keyring: Keyring
  channel: Channel
  links?: RelayLinks
}

export interface NostrconnectUri {
  clientPubkey: string
  relays: string[]
  secret: string
  perms: Array<{ method: string; kind: number | null }>
  name: string | null
}

const MAX_RELAYS = 8
const MAX_PERMS = 64
/** Methods a permission can name; the session methods (connect, ping, ...) need none. */
const PERMISSION_METHODS = new Set(['sign_event', 'nip04_encrypt', 'nip04_decrypt', 'nip44_encrypt', 'nip44_decrypt'])
const SESSION = new Set(['connect', 'ping', 'get_public_key', 'switch_relays', 'logout'])
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/

function relayUrl(text: string): boolean {
  try {
    const u = new URL(text)
    return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '' && text.length <= 512
  } catch {
    return false
  }
}

function parsePerms(text: string | null): NostrconnectUri['perms'] | string {
  if (!text) return []
  const items = text.split(',').filter(Boolean)
  if (items.length > MAX_PERMS) return `too many perms (max ${MAX_PERMS})`
  const perms: NostrconnectUri['perms'] = []
  for (const item of items) {
    const [method, param] = item.split(':', 2)
    if (SESSION.has(method)) continue
    if (!PERMISSION_METHODS.has(method)) return `unknown permission ${JSON.stringify(item.slice(0, 40))}`
    const kind = method === 'sign_event' && param !== undefined ? Number(param) : null
    if (kind !== null && !(Number.isInteger(kind) && kind >= 0 && kind <= 65535)) return `bad kind in permission ${JSON.stringify(item.slice(0, 40))}`
    perms.push({ method, kind })
  }
  return perms
}

/** The URI's parts, or a message saying what is wrong with it. */
export function parseNostrconnectUri(uri: unknown): NostrconnectUri | string {
  if (typeof uri !== 'string' || uri.length > 4096) return 'a nostrconnect:// URI is required'
  const m = /^nostrconnect:\/\/([0-9a-fA-F]{64})\?(.*)$/s.exec(uri.trim())
  if (!m) return 'not a nostrconnect:// URI with a hex client pubkey'
  const q = new URLSearchParams(m[2])
  const relays = q.getAll('relay')
  if (relays.length === 0) return 'the URI names no relay'
  if (relays.length > MAX_RELAYS) return `the URI names more than ${MAX_RELAYS} relays`
  const bad = relays.find((r) => !relayUrl(r))
  if (bad !== undefined) return `not a ws:// or wss:// relay URL: ${bad.slice(0, 100)}`
  const secret = q.get('secret')
  if (!secret || secret.length > 256 || !PRINTABLE.test(secret)) return 'the URI has no usable secret'
  const name = q.get('name')
  if (name !== null && (name.length > 128 || !PRINTABLE.test(name))) return 'the client name is too long or not printable'
  const perms = parsePerms(q.get('perms'))
  if (typeof perms === 'string') return perms
  return { clientPubkey: m[1].toLowerCase(), relays, secret, perms, name }
}

export function nostrconnectAdminMethods(deps: NostrconnectDeps): Record<string, AdminMethod> {
  const { state } = deps
  return {
    async connect_nostrconnect([keyName, uri, policyText]) {
      const identity = deps.keyring.get(keyName ?? '')
      if (!identity) return fail(state.keys.has(keyName ?? '') ? `key ${keyName} is locked` : `no key named ${keyName}`)
      const parsed = parseNostrconnectUri(uri)
      if (typeof parsed === 'string') return fail(`bad nostrconnect URI: ${parsed}`)
      let policy: Policy | undefined
      if (policyText !== undefined && policyText !== '') {
        policy = state.policies.get(Number(policyText))
        if (!policy) return fail(`no policy with id ${policyText}`)
      }
      if (!deps.links) return fail('nostrconnect needs the relay bridge')
      let linked: string[]
      try {
        linked = deps.links.link(identity.pubkey, parsed.relays)
      } catch (err) {
        return fail(`cannot listen on the URI's relays: ${(err as Error).message}`)
      }
      const now = Date.now()
      const user = addUser(state, identity.name, parsed.clientPubkey, parsed.name, now)
      dropPermissions(state, user.id)
      if (policy) grantPolicy(state, user.id, policy)
      else for (const p of parsed.perms) grant(state, user.id, p)
      state.audit({ at: now, event: 'nostrconnect', key: identity.name, client: parsed.clientPubkey })
      await state.commit()
      // Published locally at once; the bridge sends it to each relay once that relay listens for the key.
      const response = JSON.stringify({ id: randomBytes(8).toString('hex'), result: parsed.secret })
      await deps.channel.send(identity, parsed.clientPubkey, 24133, 'nip44', response)
      return ok({ pubkey: identity.pubkey, client: parsed.clientPubkey, user: user.id, relays: parsed.relays, linked })
    },
  }
}
