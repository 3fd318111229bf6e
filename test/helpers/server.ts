// Starts the real server (src/main.ts, as `npm start` does) in a child process on a free port.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Relay } from 'nostr-tools/relay'
import { afterAll, beforeAll, expect } from 'vitest'

export interface ServerProcess {
  url: string
  /** The admin bunker:// line, when the bunker printed one. */
  bunkerUri?: string
  data: string
  proc: ChildProcess
  stdout: string[]
  stderr: string[]
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const ROOT = new URL('../..', import.meta.url).pathname

export const tempDir = (prefix = 'nsecrelay-'): string => mkdtempSync(join(tmpdir(), prefix))

export interface StartOptions {
  data?: string
  args?: string[]
  env?: Record<string, string>
  /** Wait for the bunker:// line as well as the listening line. */
  waitForBunker?: boolean
}

export function startServerProcess(opts: StartOptions = {}): Promise<ServerProcess> {
  const data = opts.data ?? tempDir()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--port', '0', '--data', data, ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, NSECRELAY_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let url: string | undefined
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr.join('\n')}`)), 20_000)
    exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr.join('\n')}`)))
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      stdout.push(line)
      if (line.startsWith('listening ')) url = line.slice('listening '.length)
      const bunkerUri = line.startsWith('bunker://') ? line : undefined
      if (url && (!opts.waitForBunker || bunkerUri)) {
        clearTimeout(timer)
        resolve({
          url,
          bunkerUri,
          data,
          proc,
          stdout,
          stderr,
          stop(signal = 'SIGTERM') {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
            return exited
          },
        })
      }
    })
  })
}

/** One server and a connected nostr-tools Relay for a whole test file; it must exit cleanly. */
export function useRelayServer(ready: (server: ServerProcess, relay: Relay) => void): void {
  let server: ServerProcess | undefined
  let relay: Relay | undefined
  beforeAll(async () => {
    server = await startServerProcess()
    relay = await Relay.connect(server.url)
    ready(server, relay)
  })
  afterAll(async () => {
    relay?.close()
    if (server) expect(await server.stop()).toBe(0)
  })
}
