// A public relay for bench:connect's upstream variants: a plain nsecrelay (no admins, so its own
// bunker answers nobody) or the reference relay (@nostr-relay/core, bench/lib/reference-relay.ts).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTs, startNsecrelay } from './procs.ts'

export type UpstreamKind = 'nsecrelay' | 'reference'

export interface BenchUpstream {
  kind: UpstreamKind
  url: string
  pid: number
  stop(): Promise<void>
}

export async function startUpstream(kind: UpstreamKind): Promise<BenchUpstream> {
  if (kind === 'reference') {
    const p = runTs('bench/lib/reference-relay.ts')
    const [, url] = await p.waitFor(/^listening (\S+)$/)
    return { kind, url, pid: p.proc.pid!, stop: p.stop }
  }
  const dir = mkdtempSync(join(tmpdir(), 'nsecrelay-upstream-'))
  const config = join(dir, 'config.json')
  // every load client connects from 127.0.0.1
  writeFileSync(config, JSON.stringify({ limits: { maxConnectionsPerIp: 10_000 } }))
  const p = await startNsecrelay(['--data', join(dir, 'data'), '--config', config])
  return { kind, url: p.url, pid: p.proc.pid!, stop: p.stop }
}
