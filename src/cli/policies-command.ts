// `nsecrelay policy create|list`: policies, whose rules a redeemed token hands its client. A rule on
// the command line is `method[:kind][xN]`: sign_event:1x100 (kind 1 events, 100 times),
// nip44_encrypt (any use), sign_event:all.
import { Command } from 'commander'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { CliError } from './errors.ts'
import { emit, shortDate, table } from './output.ts'

export interface RuleArg {
  method: string
  kind?: number | 'all'
  use_count?: number
}

export function parseRule(text: string): RuleArg {
  const m = /^([a-z][a-z0-9_]*?)(?::(\d{1,5}|all))?(?:x(\d{1,9}))?$/.exec(text)
  if (!m) throw new CliError(`rule ${JSON.stringify(text)}: write method[:kind][xN], e.g. sign_event:1x100, nip44_encrypt, sign_event:all`, 2)
  const [, method, kind, count] = m
  if (kind !== undefined && kind !== 'all' && Number(kind) > 65535) throw new CliError(`rule ${text}: kinds go up to 65535`, 2)
  if (count !== undefined && Number(count) === 0) throw new CliError(`rule ${text}: a use count is at least 1`, 2)
  return {
    method,
    ...(kind === undefined ? {} : { kind: kind === 'all' ? 'all' : Number(kind) }),
    ...(count === undefined ? {} : { use_count: Number(count) }),
  }
}

interface PolicyView {
  id: number
  name: string
  expires_at: string | null
  rules: Array<{ method: string; kind: number | null; max_usage_count: number | null; current_usage_count: number }>
}

export const ruleText = (r: PolicyView['rules'][number]): string =>
  `${r.method}${r.kind === null ? '' : `:${r.kind}`}${r.max_usage_count === null ? '' : `x${r.max_usage_count}`}`

export function policyCommand(): Command {
  const policy = new Command('policy').summary('create and list policies').description('Policies: the rules a token hands the client that redeems it.')

  clientOptions(
    policy
      .command('create <name> [rules...]')
      .description('create a policy; rules are method[:kind][xN]: sign_event:1x100, nip44_encrypt, sign_event:all')
      .option('--description <text>', 'what it is for')
      .option('--expires <date>', 'ISO date after which its tokens are no longer redeemed'),
  ).action(async (name: string, rules: string[], flags: ClientFlags & { description?: string; expires?: string }) => {
    const body = { name, description: flags.description, expires_at: flags.expires, rules: rules.map(parseRule) }
    const created = await withAdmin(flags, async (c) => {
      await c.call('create_new_policy', [JSON.stringify(body)])
      const all: PolicyView[] = JSON.parse(await c.call('get_policies'))
      return all.filter((p) => p.name === name).sort((a, b) => b.id - a.id)[0]
    })
    emit(flags.json, created, () => `policy ${created.id} ${created.name}: ${created.rules.map(ruleText).join(', ') || 'no rules'}`)
  })

  clientOptions(policy.command('list').description('list policies and their rules')).action(async (flags: ClientFlags) => {
    const all: PolicyView[] = JSON.parse(await withAdmin(flags, (c) => c.call('get_policies')))
    emit(flags.json, all, () =>
      table(
        all.map((p) => ({
          ...p,
          expires: shortDate(p.expires_at),
          rules: p.rules.map((r) => `${ruleText(r)}${r.current_usage_count ? ` (${r.current_usage_count} used)` : ''}`).join(', '),
        })),
        [
          ['id', 'id'],
          ['name', 'name'],
          ['expires', 'expires'],
          ['rules', 'rules'],
        ],
      ),
    )
  })
  return policy
}

/** A policy id, or the id of the one policy with that name. */
export async function policyIdOf(call: (m: string, p?: string[]) => Promise<string>, text: string): Promise<string> {
  if (/^[1-9]\d{0,14}$/.test(text)) return text
  const all: PolicyView[] = JSON.parse(await call('get_policies'))
  const named = all.filter((p) => p.name === text)
  if (named.length === 0) throw new CliError(`no policy named ${JSON.stringify(text)} (nsecrelay policy list)`)
  if (named.length > 1) throw new CliError(`${named.length} policies are named ${JSON.stringify(text)}: give its id (${named.map((p) => p.id).join(', ')})`)
  return String(named[0].id)
}
