// `nsecrelay uri`: the admin connection strings the running (or last) server wrote to
// DATA/connection.txt: the current bunker://<hex>?relay=... form (nostr-tools, NDK, LNbits) and the
// legacy bunker://<npub>@<host> form the nsecbunker admin UI reads (wss:// relays only).
import { Command } from 'commander'
import { currentForm, legacyForm } from '../connection-file.ts'
import { connectionOf, dataDirOption } from './context.ts'
import { emit } from './output.ts'

export function uriCommand(): Command {
  return new Command('uri')
    .summary('print the admin connection strings')
    .description('print the admin connection strings (also in DATA/connection.txt): current and nsecbunker admin UI forms')
    .addOption(dataDirOption())
    .option('--public-url <url...>', 'make them for these relay URLs instead of those the server announced')
    .option('--json', 'print JSON')
    .action((flags: { data: string; publicUrl?: string[]; json?: boolean }) => {
      const conn = connectionOf({ data: flags.data })
      const relays = flags.publicUrl ?? conn.relays
      const uri = currentForm(conn.adminPubkey, relays)
      const legacy = legacyForm(conn.adminPubkey, relays) ?? null
      emit(flags.json, { uri, legacy }, () => (legacy ? `${uri}\n${legacy}` : uri))
      if (!legacy && !flags.json)
        process.stderr.write(
          'no legacy form: the nsecbunker admin UI connects over wss:// only; serve the relay as wss:// (a TLS proxy) and give --public-url wss://...\n',
        )
    })
}
