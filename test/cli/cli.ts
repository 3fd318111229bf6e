// Runs the real `nsecrelay` command in a child process, with stdin piped (no TTY), bounded in time.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const ROOT = new URL('../..', import.meta.url).pathname

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Written to stdin, which is then closed. */
  input?: string
  env?: Record<string, string>
  timeoutMs?: number
}

export function cli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NSECRELAY_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d) => (stdout += d))
  proc.stderr.on('data', (d) => (stderr += d))
  proc.stdin.end(opts.input ?? '')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`nsecrelay ${args.join(' ')}: no exit within ${opts.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`))
    }, opts.timeoutMs ?? 30_000)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A long-running command (approvals): its lines as they come, stdin to type into. */
export function cliSession(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const waiters: Array<{ pred: (l: string) => boolean; resolve: (l: string) => void }> = []
  const onLine = (l: string) => {
    lines.push(l)
    for (const w of [...waiters]) if (w.pred(l)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(l)
  }
  createInterface({ input: proc.stdout }).on('line', onLine)
  createInterface({ input: proc.stderr }).on('line', onLine)
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  return {
    proc,
    lines,
    exited,
    type: (text: string) => proc.stdin.write(text),
    waitFor(pred: (l: string) => boolean, ms = 15_000): Promise<string> {
      const seen = lines.find(pred)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no such line within ${ms} ms:\n${lines.join('\n')}`)), ms)
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(t)
            resolve(l)
          },
        })
      })
    },
    stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      return exited
    },
  }
}
