// GET /.well-known/nostr.json?name=<name>: NIP-05 for keys that have a name, with where their signer
// listens. `nip46` carries both shapes clients read: the legacy `{<pubkey>: [relays]}` (nostr-tools'
// queryBunkerProfile, NDK) and the current `{relays: [...]}` of NIP-46's signer metadata.
import { isLocalPart, PROVIDER_NAME } from './account-names.ts'

export interface Nip05Request {
  /** The query string, without `?`. */
  query: string
  /** The Host header; it picks the domain when several are served. */
  host: string
}

export interface Nip05Source {
  domains: () => readonly string[]
  /** The pubkey holding `local@domain`, if any. */
  lookup: (local: string, domain: string) => string | undefined
  relays: () => string[]
}

const EMPTY = '{"names":{}}'

/** The domain a request is for: its Host (without port) if served, else the only one served. */
function domainOf(host: string, domains: readonly string[]): string | undefined {
  const name = host
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
  if (domains.includes(name)) return name
  return domains.length === 1 ? domains[0] : undefined
}

export function nip05Document(src: Nip05Source, req: Nip05Request): string {
  const domain = domainOf(req.host, src.domains())
  if (!domain) return EMPTY
  let local: string | null
  try {
    local = new URLSearchParams(req.query).get('name')
  } catch {
    return EMPTY
  }
  local = local?.toLowerCase() ?? null
  if (!local || !(local === PROVIDER_NAME || isLocalPart(local))) return EMPTY
  const pubkey = src.lookup(local, domain)
  if (!pubkey) return EMPTY
  const relays = src.relays()
  return JSON.stringify({ names: { [local]: pubkey }, nip46: { [pubkey]: relays, relays } })
}
