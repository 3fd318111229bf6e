// Processes and clients for the bridge tests: upstream relays (a second nsecrelay without admins,
// the benchmarks' reference relay, the lazy test relay) in child processes, an nsecrelay with a
// bunker bridged to them, and an admin client that reaches the bunker only through an upstream.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { SimplePool } from 'nostr-tools/pool'
import { bunkerSignerAdmin, startBunkerServer, type AdminClient, type BunkerServer } from '../../helpers/bunker.ts'
import { startServerProcess, type ServerProcess } from '../../helpers/server.ts'

const ROOT = new URL('../../..', import.meta.url).pathname

/** Every process these helpers start; whatever a failed test leaves running dies with the worker. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})
function track<T extends { proc: ChildProcess }>(started: T): T {
  children.add(started.proc)
  started.proc.once('exit', () => children.delete(started.proc))
  return started
}

export interface Child {
  url: string
  proc: ChildProcess
  /** stdout lines so far */
  lines: string[]
  stop(): Promise<void>
}

/** Runs a TypeScript file of this repository that prints `listening <url>`. */
export function startChild(file: string, args: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  track({ proc })
  const errors: string[] = []
  const lines: string[] = []
  createInterface({ input: proc.stderr! }).on('line', (l) => errors.push(l))
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${errors.join('\n')}`)), 20_000)
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${errors.join('\n')}`)))
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      lines.push(line)
      const m = /^listening (\S+)$/.exec(line)
      if (!m) return
      clearTimeout(timer)
      resolve({
        url: m[1],
        proc,
        lines,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
          const kill = setTimeout(() => proc.kill('SIGKILL'), 5000)
          await exited
          clearTimeout(kill)
        },
      })
    })
  })
}

export const startLazyRelay = (args: string[] = []) => startChild('test/bridge/lib/lazy-relay.ts', args)
export const startReferenceRelay = () => startChild('bench/lib/reference-relay.ts')
/** A plain nsecrelay: no admins, so its own bunker never answers anyone. */
export const startUpstreamRelay = async (args: string[] = []) => track(await startServerProcess({ args }))

/** An nsecrelay with a bunker and an admin, bridged to `upstreams`. */
export async function startBridged(
  upstreams: string[],
  bridge: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
  opts: { data?: string; adminSk?: Uint8Array; env?: Record<string, string> } = {},
): Promise<BunkerServer> {
  const b = await startBunkerServer({ ...opts, config: { bridge: { ...bridge, upstreams: upstreams.map((url) => ({ url })) }, ...extra } })
  track(b.server)
  return b
}

/** The admin RPC reaching the bunker only through `relay`. */
export function adminThrough(b: BunkerServer, relay: string, pool: SimplePool): Promise<AdminClient> {
  return bunkerSignerAdmin({ ...b, bunker: { ...b.bunker, relays: [relay] } }, pool)
}

/** Runs `total` iterations on `lanes` concurrent lanes; iteration i runs once. */
export async function inLanes(lanes: number, total: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < total) await run(next++)
    }),
  )
}

/** Reads one sample of a Prometheus text exposition (sum over matching lines). */
export async function metric(server: ServerProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${server.url.replace('ws://', 'http://')}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3])
  }
  return sum
}
