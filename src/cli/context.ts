// What every command that talks to a running nsecrelay shares: its options (data directory, admin
// connection string, relay, key file, timeout, --json) and the admin client they make.
import { join } from 'node:path'
import { type Command, Option } from 'commander'
import { parseConnection, readConnectionFile, type Connection } from '../connection-file.ts'
import { ADMIN_CLIENT_KEY, readKeyFile } from '../local-admin.ts'
import { CliError } from './errors.ts'
import { connectAdmin, type AdminClient } from './rpc-client.ts'

export interface ClientFlags {
  data?: string
  uri?: string
  relay?: string
  keyFile?: string
  timeout: string
  json?: boolean
}

export const dataDirOption = () => new Option('--data <dir>', 'data directory (env NSECRELAY_DATA)').default(process.env.NSECRELAY_DATA ?? './data', './data')

/** Adds the options of a command that talks to the running bunker. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .addOption(dataDirOption())
    .option('--uri <bunker-uri>', 'admin connection string bunker://<hex>?relay=... (default: DATA/connection.txt)')
    .option('--relay <url>', "relay to reach the bunker at (default: the connection string's first)")
    .option('--key-file <file>', `admin client key, nsec or hex (default: DATA/${ADMIN_CLIENT_KEY})`)
    .option('--timeout <seconds>', 'seconds to wait for the relay and for each answer', '15')
    .option('--json', 'print JSON instead of a table')
}

export function connectionOf(flags: Pick<ClientFlags, 'data' | 'uri'>): Connection {
  try {
    return flags.uri ? parseConnection(flags.uri) : readConnectionFile(flags.data ?? './data')
  } catch (err) {
    throw new CliError((err as Error).message)
  }
}

export function timeoutMs(flags: Pick<ClientFlags, 'timeout'>): number {
  const s = Number(flags.timeout)
  if (!(s > 0 && s <= 3600)) throw new CliError(`--timeout must be a number of seconds between 0 and 3600, not ${flags.timeout}`)
  return s * 1000
}

/** Runs `fn` with a connected admin client, closing it after. */
export async function withAdmin<T>(flags: ClientFlags, fn: (client: AdminClient, conn: Connection) => Promise<T>): Promise<T> {
  const conn = connectionOf(flags)
  const ms = timeoutMs(flags)
  let sk: Uint8Array
  try {
    sk = readKeyFile(flags.keyFile ?? join(flags.data ?? './data', ADMIN_CLIENT_KEY))
  } catch (err) {
    throw new CliError(`${(err as Error).message} (give --key-file, or start the relay once without --admin to create it)`)
  }
  const client = await connectAdmin({ relayUrl: flags.relay ?? conn.relays[0], adminPubkey: conn.adminPubkey, sk, timeoutMs: ms })
  try {
    return await fn(client, conn)
  } finally {
    client.close()
  }
}
