// `nsecrelay`: the command line. `start` runs the server (src/main.ts, as `npm start` does); the
// others set it up (init, uri), administer the running bunker over its own relay with the local
// admin client key (key, policy, token, user, approvals, admin <method>) or import into a stopped
// one's data directory. Errors name the problem on one line and exit non-zero.
import { CommanderError } from 'commander'
import { runServer } from '../main.ts'
import { CliError } from './errors.ts'
import { program } from './program.ts'

export async function main(argv: string[]): Promise<number> {
  // the server parses its own options (src/config.ts), so `start` and `npm start` take the same ones
  if (argv[0] === 'start') {
    await runServer(argv.slice(1))
    return -1 // keeps running
  }
  try {
    await program().parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0 // a command that set its own
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode // commander has printed it
    if (err instanceof CliError) {
      process.stderr.write(`nsecrelay: ${err.message}\n`)
      return err.exitCode
    }
    throw err
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err) => {
    console.error('nsecrelay:', err)
    process.exit(1)
  },
)
