// DATA/nsecrelay.pid: which process serves a data directory. The bunker keeps its state in memory,
// so a second server, or an offline import, on the same directory would work from a stale copy:
// both check here first. A file left by a process that is gone (a crash) does not count.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const PID_FILE = 'nsecrelay.pid'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The pid of another live nsecrelay serving `dataDir`, if any. */
export function runningPid(dataDir: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim())
  } catch {
    return undefined
  }
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined
}

/** Writes our pid; throws when another live process holds the directory. Returns the release. */
export function claimPidFile(dataDir: string): () => void {
  const path = join(dataDir, PID_FILE)
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { mode: 0o600, flag: 'wx' }) // fails if it exists: no two claim at once
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw err
      const other = runningPid(dataDir)
      if (other !== undefined) throw new Error(`another nsecrelay (pid ${other}) is serving ${dataDir}: stop it first`)
      unlinkSync(path) // left by a process that is gone
    }
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path)
    } catch {}
  }
}
