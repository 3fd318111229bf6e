// `nsecrelay init`: writes a config file (JSON with comments) holding the settings an operator
// usually changes, each with what it does; the defaults come from the config schema itself. Every
// other setting is in README.md and src/config.ts.
import { existsSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { defaultLimits } from '../../relay/limits.ts'
import { configSchema } from '../config.ts'
import { CliError } from './errors.ts'

export interface InitValues {
  host?: string
  port?: string
  data?: string
  publicUrls?: string[]
}

const j = (v: unknown): string => JSON.stringify(v)

export function configTemplate(v: InitValues): string {
  const d = configSchema.parse({})
  const b = d.bunker
  return `// nsecrelay configuration: JSON, with comments. Start with: nsecrelay start --config <this file>
// Command line beats environment beats this file. Every setting: README.md and src/config.ts.
{
  // Address to listen on. Behind a TLS reverse proxy keep the loopback address.
  "host": ${j(v.host ?? d.host)},
  // Port to listen on (0: any free port).
  "port": ${v.port === undefined ? d.port : Number(v.port)},
  // LMDB, the keys (NIP-49 encrypted), admin-client.key and connection.txt live here (mode 0700).
  "data": ${j(v.data ?? d.data)},
  // URLs clients reach this relay at: they go into bunker:// strings and NIP-42. A wss:// one also
  // gives the nsecbunker admin UI its connection string (nsecrelay uri). Empty: ws://host:port.
  "publicUrls": ${j(v.publicUrls ?? d.publicUrls)},
  // Admin pubkeys (npub or hex). With none, the first start creates DATA/admin-client.key and
  // makes it an admin; the nsecrelay commands on this machine use it.
  "admins": [],
  // fatal, error, warn, info, debug, trace or silent.
  "logLevel": ${j(d.logLevel)},
  // "pretty" or "json"; default: pretty on a terminal, json otherwise (systemd, docker).
  // "logFormat": "json",
  // Behind a reverse proxy: the header holding the client's address, e.g. "x-forwarded-for".
  // "clientIpHeader": "x-forwarded-for",
  "bunker": {
    // Seconds an unknown client's request waits for an admin's answer (nsecrelay approvals).
    "aclTimeoutSeconds": ${b.aclTimeoutSeconds},
    // NIP-49 scrypt cost, 2^N: 16 is NIP-49's default (~250 ms a key on a small machine).
    "scryptLogN": ${b.scryptLogN},
    // Approve every client and request without asking: only for a single-user box.
    "autoApprove": ${b.autoApprove},
    // Requests one client may send a minute (0: no limit).
    "requestsPerMinute": ${b.requestsPerMinute},
    // What switch_relays answers: the relays clients should use (empty: stay where they are).
    "relays": ${j(b.relays)}
  },
  "limits": {
    // Largest message accepted, in bytes.
    "maxMessageBytes": ${defaultLimits.maxMessageBytes},
    // Open connections in all, and per address (an IPv6 address counts by its /64).
    "maxConnections": ${defaultLimits.maxConnections},
    "maxConnectionsPerIp": ${defaultLimits.maxConnectionsPerIp}
  }
}
`
}

export function initCommand(): Command {
  return new Command('init')
    .summary('write a config file with comments')
    .description('write a config file with comments (the settings you will most likely change)')
    .option('--config <file>', 'where to write it', 'nsecrelay.jsonc')
    .option('--host <host>', 'address to listen on')
    .option('--port <port>', 'port to listen on')
    .option('--data <dir>', 'data directory')
    .option('--public-url <url...>', 'URLs clients reach the relay at')
    .option('--force', 'overwrite an existing file')
    .action((flags: { config: string; host?: string; port?: string; data?: string; publicUrl?: string[]; force?: boolean }) => {
      if (existsSync(flags.config) && !flags.force) throw new CliError(`${flags.config} exists: add --force to overwrite it`)
      const text = configTemplate({ host: flags.host, port: flags.port, data: flags.data, publicUrls: flags.publicUrl })
      writeFileSync(flags.config, text, { mode: 0o600 })
      process.stdout.write(`wrote ${flags.config}; start with: nsecrelay start --config ${flags.config}\n`)
    })
}
