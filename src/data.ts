// The data directory: one LMDB environment, the operator's alone. Opened by the server and by the
// importers that write into it.
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { RootDatabase } from 'lmdb'
import { openEnvironment } from '../relay/store/store.ts'

/**
 * The data directory is the operator's alone: created (or tightened) to 0700, LMDB's files to 0600.
 * LMDB creates its files 0644 (less the umask); inside a 0700 directory nobody else reaches them
 * before the chmod.
 */
export function openPrivateEnvironment(dir: string): RootDatabase {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const env = openEnvironment(dir)
  for (const file of ['data.mdb', 'lock.mdb']) if (existsSync(join(dir, file))) chmodSync(join(dir, file), 0o600)
  return env
}
