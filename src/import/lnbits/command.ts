// `nsecrelay import lnbits --sqlite <ext_nostrrelay.sqlite3> | --postgres <url> [--dry-run] [--data DIR]`:
// reads an LNbits nostrrelay database and recreates its relays, accounts and events in the data
// directory's hosted relays (served at /nostrrelay/<id> once the server (re)starts). Refusals are
// printed as they happen (stderr), the summary at the end (stdout). Exit 0 when the import ran, even
// with refused rows (each is reported); 1 when the source cannot be read; 2 on bad arguments.
import { Command, CommanderError } from 'commander'
import type { RootDatabase } from 'lmdb'
import { openPrivateEnvironment } from '../../data.ts'
import { relaysTarget } from '../../relays/import-target.ts'
import { messageOf } from '../errors.ts'
import { formatLnbitsSummary, formatRefusal, importLnbits, type LnbitsSummary } from './index.ts'

export interface CommandIo {
  /** One chunk of standard output (the summary). */
  out(text: string): void
  /** One chunk of standard error (refusals, errors, usage). */
  err(text: string): void
  env?: NodeJS.ProcessEnv
}

export interface LnbitsImportOptions {
  sqlite?: string
  postgres?: string
  dryRun?: boolean
  /** The data directory (LMDB) to import into. */
  data: string
}

/** Runs an import from parsed options; resolves with the exit code. */
export async function importLnbitsInto(opts: LnbitsImportOptions, io: CommandIo): Promise<number> {
  if ((opts.sqlite === undefined) === (opts.postgres === undefined)) {
    io.err('error: give exactly one of --sqlite <file> or --postgres <url>\n')
    return 2
  }
  let env: RootDatabase | undefined
  let summary: LnbitsSummary
  try {
    env = opts.dryRun ? undefined : openPrivateEnvironment(opts.data)
    const common = { target: env ? relaysTarget(env) : null, onRefusal: (r: Parameters<typeof formatRefusal>[0]) => io.err(`${formatRefusal(r)}\n`) }
    summary = await (opts.sqlite !== undefined ? importLnbits({ sqlite: opts.sqlite, ...common }) : importLnbits({ postgres: opts.postgres!, ...common }))
  } catch (err) {
    io.err(`error: ${messageOf(err)}\n`)
    return 1
  } finally {
    await env?.close()
  }
  io.out(`${formatLnbitsSummary(summary)}\n`)
  if (!opts.dryRun && summary.relays.length > 0) io.out('(re)start the server to serve the imported relays\n')
  return 0
}

/** The `lnbits` command, for registering under `nsecrelay import`; its action sets `exit` with the code. */
export function lnbitsImportCommand(io: CommandIo, exit: (code: number) => void): Command {
  return new Command('lnbits')
    .description('import the relays, accounts and events of an LNbits nostrrelay extension')
    .option('--sqlite <file>', 'the extension’s ext_nostrrelay.sqlite3')
    .option('--postgres <url>', 'LNbits’ PostgreSQL database (schema nostrrelay)')
    .option('--dry-run', 'read and verify everything, write nothing', false)
    .option('--data <dir>', 'data directory to import into (env NSECRELAY_DATA)', io.env?.NSECRELAY_DATA ?? './data')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .action(async (o: { sqlite?: string; postgres?: string; dryRun: boolean; data: string }) => exit(await importLnbitsInto(o, io)))
}

/** `runLnbitsImport(['--sqlite', file])`: parses the arguments (after `import lnbits`) and runs. */
export async function runLnbitsImport(argv: string[], io: CommandIo): Promise<number> {
  let code = 0
  const cmd = lnbitsImportCommand(io, (c) => (code = c))
  try {
    await cmd.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    throw err
  }
  return code
}
