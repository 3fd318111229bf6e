// Child processes for benchmarks: the nsecrelay server, load generators, CPU time from /proc.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const ROOT = new URL('../..', import.meta.url).pathname
const CLK_TCK = 100

export interface Proc {
  proc: ChildProcess
  lines: string[]
  /** The last 50 stderr lines: why a child died. */
  stderr: string[]
  /** First stdout line matching the pattern (waits for it). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  stop(): Promise<void>
}

/**
 * Runs a TypeScript file of this repository under tsx, with extra node flags (say --cpu-prof).
 * `stdin: true` gives the child a pipe to be told things on (its end tells it the parent is gone).
 */
export function runTs(file: string, args: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = [], opts: { stdin?: boolean } = {}): Proc {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const waiters: Array<() => void> = []
  const onLine = (l: string) => {
    lines.push(l)
    for (const w of [...waiters]) w()
  }
  createInterface({ input: proc.stdout! }).on('line', onLine)
  const errors: string[] = []
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    errors.push(l)
    if (errors.length > 50) errors.shift()
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return {
    proc,
    lines,
    stderr: errors,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const l of lines) {
            const m = l.match(pattern)
            if (m) {
              waiters.splice(waiters.indexOf(check), 1)
              clearTimeout(t)
              return resolve(m)
            }
          }
        }
        const t = setTimeout(() => reject(new Error(`${file}: no line matching ${pattern} (stderr: ${errors.slice(-5).join(' | ')})`)), timeoutMs)
        waiters.push(check)
        proc.once('exit', (code) => code && reject(new Error(`${file} exited ${code}: ${errors.slice(-5).join(' | ')}`)))
        check()
      })
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000) // a bench must end, whatever the child does
      await exited
      clearTimeout(kill)
    },
  }
}

/** User + system CPU seconds a process has used so far (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** Resident set size in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
  return m ? Number(m[1]) * 1024 : NaN
}

export interface Memory {
  /** VmRSS, RssAnon (heap and other private memory), RssFile (mapped files: LMDB pages), bytes. */
  rss: number
  anon: number
  file: number
}

/** The resident set of a process and its anonymous and file-backed parts (Linux). */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? Number.NaN) * 1024
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
}

export interface Nsecrelay extends Proc {
  url: string
  bunkerUri: string
}

export async function startNsecrelay(args: string[], env: Record<string, string> = {}): Promise<Nsecrelay> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const p = runTs('src/main.ts', ['--port', '0', ...args], { NSECRELAY_LOG_LEVEL: 'warn', ...env }, nodeArgs)
  const [, url] = await p.waitFor(/^listening (\S+)$/)
  const [bunkerUri] = await p.waitFor(/^bunker:\/\/\S+$/)
  return { ...p, url, bunkerUri }
}
