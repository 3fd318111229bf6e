// `nsecrelay import nsecbunkerd`: nsecbunkerd's keys, policies and rules, tokens and key users into
// this relay's data directory. Offline: the bunker holds its state in memory, so the relay must be
// stopped (checked with DATA/nsecrelay.pid, which the import holds meanwhile so no relay starts on
// it). All or nothing: everything is read and verified first, then written in one transaction.
import { lnbitsImportCommand } from '../import/lnbits/command.ts'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { nip19 } from 'nostr-tools'
import { getPublicKey } from 'nostr-tools/pure'
import { createScryptPool } from '../../plugin/bunker/scrypt-pool.ts'
import { openBunkerState } from '../../plugin/bunker/state.ts'
import { createTokenSeal } from '../../plugin/bunker/token-seal.ts'
import { loadAdminKey, openVault, type VaultKey } from '../../plugin/bunker/vault.ts'
import { openPrivateEnvironment } from '../data.ts'
import { loadConfig } from '../config.ts'
import { bunkerTarget, keyConflict } from '../import/bunker-target.ts'
import { ImportError } from '../import/errors.ts'
import { applyNsecbunkerd, formatNsecbunkerdSummary, type PassphraseRequest, readNsecbunkerd } from '../import/nsecbunkerd/index.ts'
import { claimPidFile, runningPid } from '../pid-file.ts'
import { CliError } from './errors.ts'
import { secretReader } from './input.ts'

interface Flags {
  config: string
  db?: string
  data?: string
  nsecrelayConfig?: string
  passphraseFile?: string
  keepAdminKey?: boolean
  json?: boolean
}

async function importNsecbunkerd(flags: Flags): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig([...(flags.nsecrelayConfig ? ['--config', flags.nsecrelayConfig] : []), ...(flags.data ? ['--data', flags.data] : [])], process.env)
  } catch (err) {
    throw new CliError((err as Error).message, 2)
  }
  const dir = config.data
  const running = runningPid(dir)
  if (running !== undefined) throw new CliError(`nsecrelay (pid ${running}) is serving ${dir}: stop it first; the import writes to its data directory offline`)
  let release: () => void
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    release = claimPidFile(dir)
  } catch (err) {
    throw new CliError((err as Error).message)
  }
  const env = openPrivateEnvironment(dir)
  const pool = createScryptPool({ workers: config.bunker.scryptWorkers, maxQueue: config.bunker.scryptQueue })
  try {
    const logn = config.bunker.scryptLogN
    const adminKeyPath = join(dir, 'bunker-admin.key')
    const adminSk = await loadAdminKey(adminKeyPath, config.vaultSecret, logn, pool.derive)
    const state = openBunkerState(env, createTokenSeal(adminSk))
    let vault: VaultKey | undefined
    if (config.vaultSecret) {
      const v = await openVault(config.vaultSecret, state.vault, logn, pool.derive)
      vault = v.key
      if (!state.vault) state.setVault(v.params) // committed with the import
    }
    const secrets = secretReader(flags.passphraseFile)
    const passphraseFor = async (name: string, req: PassphraseRequest) => {
      const conflict = keyConflict(state, name)
      if (conflict) throw new ImportError(`nothing imported: ${conflict}`)
      if (req.retry) process.stderr.write(`key ${name}: ${req.retry}\n`)
      const what = req.encrypted ? `passphrase of nsecbunkerd key ${name}` : `new passphrase for key ${name} (nsecbunkerd kept it unencrypted)`
      return secrets.read(what, { confirm: !req.encrypted })
    }
    const result = await readNsecbunkerd({ config: flags.config, db: flags.db, passphraseFor })
    const target = bunkerTarget({
      state,
      scrypt: pool.derive,
      scryptLogN: logn,
      vault,
      vaultSecret: config.vaultSecret,
      adminKeyPath,
      takeAdminKey: !flags.keepAdminKey,
    })
    const summary = await applyNsecbunkerd(result, target)
    if (flags.json) return void process.stdout.write(`${JSON.stringify({ data: dir, ...summary })}\n`)
    const notes = [`into ${dir}`]
    if (summary.keys.length > 0 && !vault) notes.push('keys are locked until unlocked: nsecrelay start, then nsecrelay key unlock <name>')
    if (summary.admins.length > 0) notes.push(`nsecbunkerd's admins are not admins here until given: --admin ${summary.admins.join(' --admin ')}`)
    if (summary.adminKey === 'imported')
      notes.push(`the bunker's identity is now nsecbunkerd's (${nip19.npubEncode(getPublicKey(result.adminKey!))}): LNbits and admin UIs keep their connection`)
    process.stdout.write(`${formatNsecbunkerdSummary(summary)}\n${notes.join('\n')}\n`)
  } catch (err) {
    if (err instanceof ImportError) throw new CliError(err.message)
    throw err
  } finally {
    await pool.close()
    await env.close()
    release()
  }
}

export function importCommand(): Command {
  const imp = new Command('import')
    .summary("bring in another bunker's keys and state (offline)")
    .description('Imports into the data directory; stop the relay first.')
  imp
    .command('nsecbunkerd')
    .description(
      "import nsecbunkerd's keys (each opened with its passphrase, re-stored as NIP-49), policies and rules, tokens (with their redemption state), key users and their signing conditions; all or nothing",
    )
    .requiredOption('--config <file>', "nsecbunkerd's nsecbunker.json")
    .option('--db <file>', "nsecbunkerd's nsecbunker.db (without it: keys and admins only)")
    .option('--data <dir>', "this relay's data directory (env NSECRELAY_DATA; default ./data)")
    .option('--nsecrelay-config <file>', "this relay's config file, for data, scryptLogN (env NSECRELAY_CONFIG; the vault secret from its env)")
    .option('--passphrase-file <file>', 'passphrases one a line, in the order asked (else a prompt without echo, or stdin lines)')
    .option('--keep-admin-key', "keep this bunker's identity key (default: take nsecbunkerd's, which LNbits and admin UIs address)")
    .option('--json', 'print the summary as JSON')
    .action((flags: Flags) => importNsecbunkerd(flags))
  const io = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s), env: process.env }
  imp.addCommand(lnbitsImportCommand(io, (code) => (process.exitCode = code)))
  return imp
}
