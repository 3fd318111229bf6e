// A throwaway PostgreSQL server for tests: initdb in a temp dir, started with pg_ctl on a free
// loopback port, stopped and removed by stop(). Run as the `postgres` OS user when we are root
// (the server refuses to run as root). Where no server can be started, `startPostgres` says why
// instead, and the tests that need it are skipped with that message.
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth, loopback only) */
  url: string
  stop(): Promise<void>
}

export type PostgresStart = { ok: true; server: PostgresServer } | { ok: false; reason: string }

function binDir(): string | undefined {
  const fromEnv = process.env.NSECRELAY_PG_BIN
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined
  const base = '/usr/lib/postgresql'
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(base, versions[0], 'bin')
  }
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  const dir = r.status === 0 ? r.stdout.trim() : ''
  return dir && existsSync(join(dir, 'initdb')) ? dir : undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** Runs a server binary, as `postgres` when we are root. Throws with its output on failure. */
function runAs(user: { uid: number; gid: number } | undefined, cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe', timeout: 120_000, ...(user ?? {}) })
}

function postgresUser(): { uid: number; gid: number } | undefined | string {
  if (process.getuid?.() !== 0) return undefined
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (r.status !== 0 || g.status !== 0) return 'running as root and there is no `postgres` user to run the server as'
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) }
}

export async function startPostgres(): Promise<PostgresStart> {
  const bin = binDir()
  if (!bin) return { ok: false, reason: 'no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian `postgresql` or set NSECRELAY_PG_BIN' }
  const user = postgresUser()
  if (typeof user === 'string') return { ok: false, reason: user }
  // the server user must reach the directory: a root-only TMPDIR would not do
  const dir = mkdtempSync(join(user && existsSync('/tmp') ? '/tmp' : tmpdir(), 'nsecrelay-pg-'))
  const data = join(dir, 'data')
  if (user) chownSync(dir, user.uid, user.gid)
  const port = await freePort()
  const pgCtl = join(bin, 'pg_ctl')
  try {
    runAs(user, join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
    const serverOpts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
    runAs(user, pgCtl, ['-D', data, '-o', serverOpts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'])
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string }
    rmSync(dir, { recursive: true, force: true })
    return { ok: false, reason: `PostgreSQL could not be started: ${err.stderr?.toString().trim() || err.message}` }
  }
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    process.off('exit', stop)
    try {
      runAs(user, pgCtl, ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  // a test process that ends without stop() (a crash, an interrupted run) still takes it down
  process.once('exit', stop)
  return { ok: true, server: { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop: async () => stop() } }
}
