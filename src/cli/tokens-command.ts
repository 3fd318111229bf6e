// `nsecrelay token create|list|revoke`: connect tokens. `create` prints the bunker:// string a
// client connects with: the key's pubkey, the relays from the admin connection string, the secret.
import { Command } from 'commander'
import { nip19 } from 'nostr-tools'
import { currentForm } from '../connection-file.ts'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { CliError } from './errors.ts'
import { emit, shortDate, table } from './output.ts'
import { policyIdOf } from './policies-command.ts'

interface TokenView {
  id: number
  key_name: string
  client_name: string
  token: string
  policy_id: number
  policy_name: string | null
  created_at: string | null
  expires_at: string | null
  redeemed_at: string | null
  redeemed_by: string | null
  time_until_expiration: number | null
}

/** bunker://<key hex>?relay=...&secret=... while the token holds its secret (`<npub>#<secret>`). */
export function tokenUri(token: string, relays: string[]): string | undefined {
  const [npub, secret] = token.split('#')
  if (!secret) return undefined
  const d = nip19.decode(npub)
  if (d.type !== 'npub') return undefined
  return `${currentForm(d.data, relays)}&secret=${secret}`
}

const stateOf = (t: TokenView): string =>
  t.redeemed_at !== null ? 'redeemed' : t.time_until_expiration !== null && t.time_until_expiration <= 0 ? 'expired' : 'open'

export function tokenCommand(): Command {
  const token = new Command('token')
    .summary('create, list and revoke connect tokens')
    .description("Tokens: one client connects to a key with one, and gets its policy's rules.")

  clientOptions(
    token
      .command('create <key> <client> <policy>')
      .description('create a token for <key> under <policy> (id or name); prints the bunker:// string to connect with')
      .option('--hours <n>', 'hours until it can no longer be redeemed (default: never)'),
  ).action(async (key: string, client: string, policy: string, flags: ClientFlags & { hours?: string }) => {
    const made = await withAdmin(flags, async (c, conn) => {
      const params = [key, client, await policyIdOf((m, p) => c.call(m, p), policy)]
      if (flags.hours !== undefined) params.push(flags.hours)
      await c.call('create_new_token', params)
      const all: TokenView[] = JSON.parse(await c.call('get_key_tokens', [key]))
      const t = all.filter((x) => x.client_name === client && String(x.policy_id) === params[2] && x.token.includes('#')).sort((a, b) => b.id - a.id)[0]
      if (!t) throw new CliError('the token was created but is not listed: see nsecrelay token list')
      return { ...t, uri: tokenUri(t.token, conn.relays)! }
    })
    emit(flags.json, made, () => made.uri)
  })

  clientOptions(token.command('list <key>').description("list a key's tokens, with the bunker:// string of each open one")).action(
    async (key: string, flags: ClientFlags) => {
      const rows = await withAdmin(flags, async (c, conn) => {
        const all: TokenView[] = JSON.parse(await c.call('get_key_tokens', [key]))
        return all.map((t) => ({ ...t, state: stateOf(t), uri: tokenUri(t.token, conn.relays) ?? null }))
      })
      emit(flags.json, rows, () =>
        table(
          rows.map((t) => ({ ...t, expires: shortDate(t.expires_at), uri: t.state === 'open' ? t.uri : null })),
          [
            ['id', 'id'],
            ['client_name', 'client'],
            ['policy_name', 'policy'],
            ['expires', 'expires'],
            ['state', 'state'],
            ['redeemed_by', 'redeemed by'],
            ['uri', 'connect with'],
          ],
        ),
      )
    },
  )

  clientOptions(token.command('revoke <id>').description('delete a token; a client that redeemed it is revoked too')).action(
    async (id: string, flags: ClientFlags) => {
      await withAdmin(flags, (c) => c.call('revoke_token', [id]))
      emit(flags.json, { revoked: Number(id) }, () => `token ${id} revoked`)
    },
  )
  return token
}
