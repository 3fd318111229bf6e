// The side of a soak load process that talks to bench/soak.ts over stdin/stdout:
//   child prints `ready`; parent writes `go <durationMs>`; child runs until then, or until the parent
//   writes `stop` or goes away (stdin ends), and prints `done <json>`. Whatever its loops are doing,
//   the child reports and exits at most GRACE_MS after it was told to stop: a soak must end.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const GRACE_MS = 8000

export interface Control {
  /** Resolves once the parent says go. */
  readonly started: Promise<void>
  /** Date.now() at which the run ends (Infinity before go). */
  readonly deadline: number
  stopped(): boolean
  /** Resolves after `ms`, or as soon as the run is told to stop. */
  sleep(ms: number): Promise<void>
  /** Resolves when the run ends. */
  readonly ended: Promise<void>
  /** Runs `prepare`, prints `ready`, waits for go, runs `work`, prints `done <report()>` and exits. */
  run(job: { prepare?: () => Promise<unknown>; work: () => Promise<unknown>; report: () => unknown }): Promise<never>
}

export function childControl(): Control {
  let deadline = Number.POSITIVE_INFINITY
  let stopped = false
  let go: () => void = () => {}
  let end: () => void = () => {}
  const started = new Promise<void>((r) => (go = r))
  const ended = new Promise<void>((r) => (end = r))
  const sleepers = new Set<() => void>()
  let report: () => unknown = () => ({})

  const finish = (why: string) => {
    process.stdout.write(`done ${JSON.stringify({ ...(report() as object), finished: why })}\n`, () => process.exit(0))
  }
  const stop = () => {
    if (stopped) return
    stopped = true
    end()
    for (const wake of [...sleepers]) wake()
    setTimeout(() => finish('grace period over'), GRACE_MS).unref()
  }
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const [verb, arg] = line.trim().split(' ')
    if (verb === 'go') {
      deadline = Date.now() + Number(arg)
      setTimeout(stop, Number(arg)).unref()
      go()
    } else if (verb === 'stop') stop()
  })
  lines.on('close', () => {
    stop()
    go() // an orphan has nothing to wait for
  })
  process.on('SIGTERM', stop)
  // A load generator keeps going past a bug in one of its loops; the count shows in the report.
  let uncaught = 0
  process.on('uncaughtException', (err) => {
    if (uncaught++ < 5) console.error('uncaught:', err)
  })
  process.on('unhandledRejection', (err) => {
    if (uncaught++ < 5) console.error('unhandled rejection:', err)
  })
  // Keeps the event loop alive while waiting for go (stdin alone is not enough once it is paused).
  const keepAlive = setInterval(() => {}, 60_000)

  return {
    started,
    get deadline() {
      return deadline
    },
    stopped: () => stopped,
    sleep(ms) {
      if (stopped) return Promise.resolve()
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(t)
          sleepers.delete(wake)
          resolve()
        }
        const t = setTimeout(wake, ms)
        sleepers.add(wake)
      })
    },
    ended,
    async run(job) {
      report = () => ({ ...(job.report() as object), uncaught })
      await job.prepare?.()
      console.log('ready')
      await started
      await Promise.race([job.work().catch((err) => console.error('work failed:', err)), ended.then(() => new Promise((res) => setTimeout(res, GRACE_MS)))])
      clearInterval(keepAlive)
      finish(stopped ? 'stopped' : 'work done')
      return new Promise<never>(() => {})
    },
  }
}

/** What bench/soak.ts hands every load process: a JSON file, 0600, in the run's temp directory. */
export function readSetup<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}
