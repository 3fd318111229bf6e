// `nsecrelay admin <method> [params...]`: any admin RPC method, one subcommand per entry of the
// bunker's admin table, so arguments, help and validation come from where the bunker reads them.
// Secret params (passphrases, nsecs) are read from a prompt, stdin or --passphrase-file.
import { Command } from 'commander'
import { ADMIN_TABLE, paramProblem, type AdminMethodSpec } from '../../plugin/bunker/admin-table.ts'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { CliError } from './errors.ts'
import { secretReader } from './input.ts'

type Flags = ClientFlags & { passphraseFile?: string } & Record<string, unknown>

/** Prints a result: JSON text pretty (or compact with --json), anything else as it is. */
export function printResult(result: string, json?: boolean): void {
  let parsed: unknown
  try {
    parsed = JSON.parse(result)
  } catch {
    return void process.stdout.write(`${json ? JSON.stringify(result) : result}\n`)
  }
  process.stdout.write(`${json ? JSON.stringify(parsed) : JSON.stringify(parsed, null, 2)}\n`)
}

/** The params in table order: arguments from argv, secrets read (optional ones only when flagged). */
async function paramsOf(spec: AdminMethodSpec, args: Array<string | undefined>, flags: Flags): Promise<string[]> {
  const secrets = secretReader(flags.passphraseFile)
  const params: string[] = []
  let next = 0
  for (const p of spec.params) {
    if (!p.secret) params.push(args[next++] ?? '')
    else if (!p.optional || flags[p.name]) params.push(await secrets.read(p.name, { confirm: spec.name === 'create_new_key' && p.name === 'passphrase' }))
    else params.push('')
  }
  while (params.length > 0 && params.at(-1) === '') params.pop()
  return params
}

function methodCommand(spec: AdminMethodSpec): Command {
  const cmd = new Command(spec.name).summary(spec.summary).description(`${spec.summary}\nanswers: ${spec.result}`)
  for (const p of spec.params) if (!p.secret) cmd.argument(p.optional ? `[${p.name}]` : `<${p.name}>`, p.help)
  if (spec.anyParams) cmd.argument('[params...]', 'params, sent as they are')
  const secrets = spec.params.filter((p) => p.secret)
  for (const p of secrets) if (p.optional) cmd.option(`--${p.name}`, `also read ${p.name} (${p.help})`)
  if (secrets.length > 0) {
    cmd.option('--passphrase-file <file>', 'read secrets from this file, one a line (else a prompt, or stdin lines)')
    cmd.addHelpText(
      'after',
      `\n${secrets.map((p) => `${p.name}: ${p.help}; read from a prompt without echo, stdin or --passphrase-file, never argv`).join('\n')}`,
    )
  }
  clientOptions(cmd)
  cmd.action(async function (this: Command) {
    const flags = this.opts<Flags>()
    const args = this.processedArgs as Array<string | string[] | undefined>
    const params = spec.anyParams ? ((args[0] as string[] | undefined) ?? []) : await paramsOf(spec, args as Array<string | undefined>, flags)
    const problem = paramProblem(spec, params)
    if (problem) throw new CliError(problem.replace(/^invalid: /, ''), 2)
    const result = await withAdmin(flags, (client) => client.call(spec.name, params))
    printResult(result, flags.json)
  })
  return cmd
}

export function adminCommand(): Command {
  const admin = new Command('admin')
    .summary('send any admin RPC method to the running bunker')
    .description("Sends one admin RPC method (nsecbunkerd's protocol) to the running bunker and prints its result.\nEvery method has its own --help.")
  for (const spec of ADMIN_TABLE) if (!spec.open) admin.addCommand(methodCommand(spec))
  return admin
}
