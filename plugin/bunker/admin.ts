// The admin channel: nsecbunkerd's admin RPC on kinds 24134 and 24133, p-tagged to the bunker's own
// admin identity, accepted from admin authors only. The same subscription carries the admins'
// answers to our acl questions.
import type { NostrEvent } from '../../relay/relay.ts'
import { accessAdminMethods } from './admin-access.ts'
import { fail, keyAdminMethods, type AdminMethod, type KeyAdminDeps } from './admin-keys.ts'
import type { Approvals } from './approvals.ts'
import { nowSeconds, type Channel, type Identity, type Log } from './channel.ts'
import type { Scheme } from './crypto.ts'
import type { Reply } from './rpc.ts'

export interface AdminDeps extends KeyAdminDeps {
  channel: Channel
  approvals: Approvals
  log: Log
  admins: () => string[]
  windowSeconds: number
  /** Remembers the scheme each admin speaks, for the questions we send it. */
  noteScheme: (admin: string, scheme: Scheme) => void
}

export function createAdmin(deps: AdminDeps, admin: Identity): (event: NostrEvent) => void {
  const methods: Record<string, AdminMethod> = {
    ping: () => ({ result: 'ok' }),
    // NIP-46 session calls, for admin clients that open the channel like a signer (NDK does).
    connect: () => ({ result: 'ack' }),
    get_public_key: () => ({ result: admin.pubkey }),
    ...keyAdminMethods(deps),
    ...accessAdminMethods(deps.state),
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
    if (msg.type === 'invalid') {
      if (msg.id) void deps.channel.answer(inbound, 'invalid', fail(`invalid request: ${msg.reason}`))
      return
    }
    const { method, params } = msg.req
    const respond = (reply: Reply) => deps.channel.answer(inbound, method, reply).catch((err) => deps.log.error({ err }, 'admin reply failed'))
    if (!isAdmin) return void respond(fail('You are not designated to administrate this bunker'))
    deps.noteScheme(event.pubkey, inbound.scheme)
    if (Math.abs(event.created_at - nowSeconds()) > deps.windowSeconds) return void respond(fail('request created_at is outside the accepted time window'))
    const run = Object.hasOwn(methods, method) ? methods[method] : undefined
    if (!run) return void respond(fail(`Unknown method ${method}`))
    Promise.resolve()
      .then(() => run(params))
      .catch((err): Reply => {
        deps.log.error({ err, method }, 'admin request failed')
        return fail('internal error')
      })
      .then(respond)
  }
}
