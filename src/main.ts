// The server: `nsecrelay start [options]`, or `npm start -- [options]`. Prints `listening ws://H:P`
// once it accepts connections, then the admin connection string; writes both connection strings
// to DATA/connection.txt.
import { mkdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { nip19 } from 'nostr-tools'
import { HelpRequested, USAGE, loadConfig } from './config.ts'
import { startApp, type App } from './app.ts'
import { writeConnectionFile } from './connection-file.ts'
import { localAdmin } from './local-admin.ts'
import { createLogger } from './log.ts'
import { claimPidFile } from './pid-file.ts'
import { secp256k1 } from '../native/secp256k1/index.ts'

export async function runServer(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(argv, env)
  } catch (err) {
    if (err instanceof HelpRequested) return void console.log(USAGE)
    console.error((err as Error).message)
    console.error(USAGE)
    process.exit(2)
  }
  const log = createLogger(config.logLevel, config.logFormat)
  mkdirSync(config.data, { recursive: true, mode: 0o700 })
  let release: () => void
  try {
    release = claimPidFile(config.data)
    const local = localAdmin(config.data, config.admins)
    config = { ...config, admins: local.admins }
    if (local.created)
      log.warn(
        { file: local.path, npub: nip19.npubEncode(local.pubkey!) },
        `no admin configured: created ${local.path}, an admin of this bunker; nsecrelay commands use it`,
      )
  } catch (err) {
    console.error((err as Error).message)
    process.exit(1)
  }
  process.on('exit', release)
  // Handlers go in before start-up, so a signal at any moment closes LMDB cleanly.
  let app: App | undefined
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    // LMDB commits are durable as they resolve, so a stalled close loses nothing acknowledged
    setTimeout(() => process.exit(1), 10_000).unref()
    Promise.resolve(app?.close()).then(
      () => log.flush(() => process.exit(0)),
      (err) => {
        log.error({ err }, 'error while closing')
        log.flush(() => process.exit(1))
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))

  app = await startApp(config, log)
  if (stopping) return void (await app.close())
  if (app.server.build !== 'native') log.warn('uWebSockets.js native build NOT loaded: running on the slow pure-JS fallback')
  else log.info({ uws: 'native' }, 'uWebSockets.js native build in use')
  if (secp256k1.backend !== 'native')
    log.warn('secp256k1 on wasm, ~4x slower per signature; for native: apt-get install libsecp256k1-dev && npm run build:native')
  else log.info({ secp256k1: 'native' }, 'native libsecp256k1 in use')
  log.info({ data: config.data, host: app.server.host, port: app.server.port }, 'relay started')
  writeConnectionFile(config.data, app.bunker.adminPubkey, [...app.urls, ...app.bridge.relays()])
  process.stdout.write(`listening ${app.url}\n`)
  // The bunker:// line names the upstreams too: it is printed once they listen (or after the bound).
  await app.bridge.ready(config.bridge.startTimeoutMs)
  for (const u of app.bridge.health().upstreams) if (u.state !== 'healthy') log.warn({ upstream: u.url, state: u.state }, 'bridge: upstream not ready at start')
  process.stdout.write(`${app.bunker.connectionString(app.bunkerUrls())}\n`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runServer(process.argv.slice(2)).catch((err) => {
    console.error('fatal:', err)
    process.exit(1)
  })
}
