// The admin channel: nsecbunkerd's admin RPC on kinds 24134 and 24133, p-tagged to the bunker's own
// admin identity, accepted from admin authors only. The same subscription carries the admins'
// answers to our acl questions. Methods are dispatched through the declared table (admin-table.ts):
// params that do not fit get an error reply naming the param, before any handler runs.
import type { NostrEvent } from '../../relay/relay.ts'
import type { Accounts } from './accounts.ts'
import { accessAdminMethods } from './admin-access.ts'
import { fail, keyAdminMethods, type AdminMethod, type KeyAdminDeps } from './admin-keys.ts'
import { bindAdminTable, paramProblem, type AdminMethodSpec } from './admin-table.ts'
import type { Approvals } from './approvals.ts'
import type { Channel, Identity, Log } from './channel.ts'
import type { Scheme } from './crypto.ts'
import { nostrconnectAdminMethods, type RelayLinks } from './nostrconnect.ts'
import type { Reply } from './rpc.ts'

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
  const methods = bindAdminTable<AdminMethod>({
    session: {
      ping: () => ({ result: 'ok' }),
      // NIP-46 session calls, for admin clients that open the channel like a signer (NDK does).
      connect: () => ({ result: 'ack' }),
      get_public_key: () => ({ result: admin.pubkey }),
    },
    keys: keyAdminMethods(deps),
    access: accessAdminMethods(deps.state),
    names: deps.accounts?.adminMethods,
    // create_account needs the request itself (who asks, by which route): it is dispatched below
    accounts: deps.accounts && { create_account: () => fail('create_account goes to the account provider') },
    nostrconnect: nostrconnectAdminMethods(deps),
  })

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
    const bound = methods.get(method)
    // metric labels come from the known method set only
    deps.channel.respond(inbound, bound ? method : 'other', () => {
      if (bound?.spec.open) return paramFail(bound.spec, params) ?? deps.accounts!.createAccount(inbound, params) // open to anyone
      if (!isAdmin) return fail('You are not designated to administrate this bunker')
      deps.noteScheme(event.pubkey, inbound.scheme)
      if (!bound) return fail(`Unknown method ${method}`)
      return paramFail(bound.spec, params) ?? bound.run(params)
    })
  }
}

function paramFail(spec: AdminMethodSpec, params: string[]): Reply | undefined {
  const problem = paramProblem(spec, params)
  return problem === undefined ? undefined : fail(problem)
}
