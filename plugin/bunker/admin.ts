// The admin channel: nsecbunkerd's admin RPC on kinds 24134 and 24133, p-tagged to the bunker's own
// admin identity, accepted from admin authors only. The same subscription carries the admins'
// answers to our acl questions.
import type { NostrEvent } from '../../relay/relay.ts'
import type { Accounts } from './accounts.ts'
import { accessAdminMethods } from './admin-access.ts'
import { fail, keyAdminMethods, type AdminMethod, type KeyAdminDeps } from './admin-keys.ts'
import type { Approvals } from './approvals.ts'
import type { Channel, Identity, Log } from './channel.ts'
import type { Scheme } from './crypto.ts'
import { nostrconnectAdminMethods, type RelayLinks } from './nostrconnect.ts'

export interface AdminDeps extends KeyAdminDeps {
  channel: Channel
  approvals: Approvals
  log: Log
  admins: () => string[]
  /** Remembers the scheme each admin speaks, for the questions we send it. */
  noteScheme: (admin: string, scheme: Scheme) => void
  /** create_account (anyone may ask) and the admin methods for names. */
  accounts?: Accounts
  /** The relay bridge, for connect_nostrconnect. */
  links?: RelayLinks
}

export function createAdmin(deps: AdminDeps, admin: Identity): (event: NostrEvent) => void {
  const methods: Record<string, AdminMethod> = {
    ping: () => ({ result: 'ok' }),
    // NIP-46 session calls, for admin clients that open the channel like a signer (NDK does).
    connect: () => ({ result: 'ack' }),
    get_public_key: () => ({ result: admin.pubkey }),
    ...keyAdminMethods(deps),
    ...accessAdminMethods(deps.state),
    ...deps.accounts?.adminMethods,
    ...nostrconnectAdminMethods(deps),
  }

  return (event) => {
    const inbound = deps.channel.open(admin, event)
    if (!inbound) return
    const { msg } = inbound
    const isAdmin = deps.admins().includes(event.pubkey)
    if (msg.type === 'response') {
      if (isAdmin) deps.approvals.settle(msg.res)
      return
    }
    // admins are trusted and not rate-limited; anyone else is a stranger here
    if (!deps.channel.admit(inbound, isAdmin ? 'admin' : 'stranger')) return
    if (msg.type === 'invalid') return deps.channel.answerInvalid(inbound)
    const { method, params } = msg.req
    const run = Object.hasOwn(methods, method) ? methods[method] : undefined
    const open = method === 'create_account' && deps.accounts !== undefined
    // metric labels come from the known method set only
    deps.channel.respond(inbound, run || open ? method : 'other', () => {
      if (open) return deps.accounts!.createAccount(inbound, params) // open to anyone
      if (!isAdmin) return fail('You are not designated to administrate this bunker')
      deps.noteScheme(event.pubkey, inbound.scheme)
      return run ? run(params) : fail(`Unknown method ${method}`)
    })
  }
}
