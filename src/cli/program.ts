// The `nsecrelay` command tree (commander): every command with its options and help.
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { adminCommand } from './admin-command.ts'
import { approvalsCommand } from './approvals-command.ts'
import { importCommand } from './import-command.ts'
import { initCommand } from './init-command.ts'
import { keyCommand } from './keys-command.ts'
import { policyCommand } from './policies-command.ts'
import { tokenCommand } from './tokens-command.ts'
import { uriCommand } from './uri-command.ts'
import { userCommand } from './users-command.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export function program(): Command {
  const cli = new Command('nsecrelay')
    .description('A Nostr relay with a NIP-46 remote signer (bunker) inside it.')
    .version(pkg.version)
    .showHelpAfterError('(add --help for usage)')
  cli
    .command('start')
    .description('run the relay and the bunker (options: nsecrelay start --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
  for (const make of [initCommand, uriCommand, keyCommand, policyCommand, tokenCommand, userCommand, approvalsCommand, adminCommand, importCommand])
    cli.addCommand(make())
  cli.addHelpText(
    'after',
    `
Commands that talk to the bunker reach the running relay through DATA/connection.txt and sign as
DATA/admin-client.key (made at the first start without --admin). Passphrases are never taken from
the command line: a prompt without echo, stdin lines, or --passphrase-file.`,
  )
  // subcommands report their errors through main() below, not by exiting themselves
  const exitOverride = (cmd: Command): void => {
    cmd.exitOverride()
    for (const sub of cmd.commands) exitOverride(sub)
  }
  exitOverride(cli)
  return cli
}
