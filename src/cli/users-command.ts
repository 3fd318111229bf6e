// `nsecrelay user list|revoke`: the clients of a key (key users) and their permissions.
import { Command } from 'commander'
import { nip19 } from 'nostr-tools'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { emit, shortDate, table } from './output.ts'

interface UserView {
  id: number
  pubkey: string
  description: string | null
  createdAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
  signingConditions: Array<{ method: string; kind: number | null; allowed: boolean }>
}

const permText = (p: UserView['signingConditions'][number]) => `${p.allowed ? '' : 'not '}${p.method}${p.kind === null ? '' : `:${p.kind}`}`

export function userCommand(): Command {
  const user = new Command('user').summary('list and revoke the clients of a key').description('Key users: the clients a key serves, and what each may do.')

  clientOptions(user.command('list <key>').description("list a key's clients and their permissions")).action(async (key: string, flags: ClientFlags) => {
    const users: UserView[] = JSON.parse(await withAdmin(flags, (c) => c.call('get_key_users', [key])))
    emit(flags.json, users, () =>
      table(
        users.map((u) => ({
          ...u,
          client: nip19.npubEncode(u.pubkey),
          lastUsed: shortDate(u.lastUsedAt),
          revoked: shortDate(u.revokedAt),
          permissions: u.signingConditions.map(permText).join(', '),
        })),
        [
          ['id', 'id'],
          ['client', 'client'],
          ['description', 'description'],
          ['lastUsed', 'last used'],
          ['revoked', 'revoked'],
          ['permissions', 'permissions'],
        ],
      ),
    )
  })

  clientOptions(user.command('revoke <id>').description('revoke a key user (its client is refused from then on)')).action(
    async (id: string, flags: ClientFlags) => {
      await withAdmin(flags, (c) => c.call('revoke_user', [id]))
      emit(flags.json, { revoked: Number(id) }, () => `key user ${id} revoked`)
    },
  )
  return user
}
