// `nsecrelay key create|list|unlock|delete`: the key admin methods with readable output.
import { Command } from 'commander'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { CliError } from './errors.ts'
import { secretReader } from './input.ts'
import { emit, table } from './output.ts'

type SecretFlags = ClientFlags & { passphraseFile?: string }
const passphraseFileOption = (cmd: Command) =>
  cmd.option('--passphrase-file <file>', 'read the passphrase from this file (else a prompt without echo, or a line of stdin)')

export function keyCommand(): Command {
  const key = new Command('key')
    .summary('create, list, unlock and delete keys')
    .description('Keys the bunker signs with (admin methods create_new_key, get_keys, unlock_key, delete_key).')

  passphraseFileOption(
    clientOptions(
      key
        .command('create <name>')
        .description('create a key and unlock it; its passphrase encrypts it at rest (NIP-49)')
        .option('--nsec', 'import a secret key (nsec or hex), read like the passphrase, after it'),
    ),
  ).action(async (name: string, flags: SecretFlags & { nsec?: boolean }) => {
    const secrets = secretReader(flags.passphraseFile)
    const params = [name, await secrets.read(`passphrase for key ${name}`, { confirm: true })]
    if (flags.nsec) params.push(await secrets.read(`nsec for key ${name}`))
    const { npub } = JSON.parse(await withAdmin(flags, (c) => c.call('create_new_key', params)))
    emit(flags.json, { name, npub }, () => `${name} ${npub}`)
  })

  clientOptions(key.command('list').description('list keys: unlocked ones with npub and counts')).action(async (flags: ClientFlags) => {
    const keys = JSON.parse(await withAdmin(flags, (c) => c.call('get_keys')))
    emit(flags.json, keys, () =>
      table(
        keys.map((k: { npub?: string }) => ({ ...k, state: k.npub ? 'unlocked' : 'locked' })),
        [
          ['name', 'name'],
          ['state', 'state'],
          ['npub', 'npub'],
          ['userCount', 'users'],
          ['tokenCount', 'tokens'],
        ],
      ),
    )
  })

  passphraseFileOption(clientOptions(key.command('unlock <name>').description('unlock a key with its passphrase'))).action(
    async (name: string, flags: SecretFlags) => {
      const passphrase = await secretReader(flags.passphraseFile).read(`passphrase for key ${name}`)
      const r = JSON.parse(await withAdmin(flags, (c) => c.call('unlock_key', [name, passphrase])))
      if (!r.success) throw new CliError(`unlocking ${name}: ${r.error ?? 'refused'}`)
      emit(flags.json, r, () => `${name} unlocked`)
    },
  )

  clientOptions(key.command('delete <name>').description('delete a key, with its users, tokens and names, for good').option('--yes', 'yes, delete it')).action(
    async (name: string, flags: ClientFlags & { yes?: boolean }) => {
      if (!flags.yes) throw new CliError(`deleting ${name} removes the key, its users and its tokens for good: add --yes`, 2)
      await withAdmin(flags, (c) => c.call('delete_key', [name]))
      emit(flags.json, { deleted: name }, () => `${name} deleted`)
    },
  )
  return key
}
