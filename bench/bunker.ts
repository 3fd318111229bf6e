// bench:bunker — the bunker's own cost, in one process and without sockets: a relay, the bunker, and
// a client sink on the relay's host API. Prints the primitives and the request service times.
// Usage: npm run bench:bunker -- [--requests 2000]
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createRelay } from '../relay/relay.ts'
import { openEnvironment, openStore } from '../relay/store/store.ts'
import { checkEvent } from '../relay/verify.ts'
import { startBunker } from '../plugin/bunker/index.ts'
import { createCipher } from '../plugin/bunker/crypto.ts'
import { publicKeyOf, signEvent } from '../plugin/bunker/sign.ts'
import { percentile, round, table, writeResults } from './lib/report.ts'

const { values } = parseArgs({ options: { requests: { type: 'string' } } })
const N = Number(values.requests ?? 2000)

function micro(name: string, f: () => void, n = 10_000): Record<string, unknown> {
  for (let i = 0; i < 1000; i++) f()
  const t = performance.now()
  for (let i = 0; i < n; i++) f()
  return { operation: name, 'µs each': round(((performance.now() - t) / n) * 1000, 1) }
}

const dir = mkdtempSync(join(tmpdir(), 'nsecrelay-bunker-bench-'))
const env = openEnvironment(dir)
const relay = createRelay({ store: openStore(env) })
const silent = { info() {}, warn() {}, error() {} }
const bunker = await startBunker({ relay, env, dataDir: dir, admins: [], log: silent, scryptLogN: 8, autoApprove: true })
const signer = bunker.keyring.register('bench', randomBytes(32))
const clientSk = randomBytes(32)
const client = publicKeyOf(clientSk)
const cipher = createCipher()

const sample = signEvent({ kind: 1, created_at: 1, tags: [], content: 'x'.repeat(200) }, clientSk, client)
const payload = cipher.encrypt('nip44', clientSk, client, signer.pubkey, '{"id":"a","method":"ping","params":[]}')
const primitives = [
  micro('schnorr verify (id + sig)', () => checkEvent(sample)),
  micro('schnorr sign (id + sig)', () => signEvent({ kind: 1, created_at: 1, tags: [], content: 'x'.repeat(200) }, clientSk, client)),
  micro('nip44 encrypt (cached key)', () => cipher.encrypt('nip44', clientSk, client, signer.pubkey, '{"id":"a","result":"pong"}')),
  micro('nip44 decrypt (cached key)', () => cipher.decrypt('nip44', clientSk, client, signer.pubkey, payload)),
]

let answered: (() => void) | undefined
relay.subscribe([{ kinds: [24133], '#p': [client] }], () => answered?.())
/** One request through relay.publish (verified, as from a socket) until the reply is dispatched. */
async function request(method: string, params: string[]): Promise<number> {
  const content = cipher.encrypt('nip44', clientSk, client, signer.pubkey, JSON.stringify({ id: randomBytes(6).toString('hex'), method, params }))
  const ev = signEvent({ kind: 24133, created_at: Math.floor(Date.now() / 1000), tags: [['p', signer.pubkey]], content }, clientSk, client)
  const t = performance.now()
  await new Promise<void>((resolve) => {
    answered = resolve
    void relay.publish(ev)
  })
  return performance.now() - t
}

await request('connect', [signer.pubkey])
const template = JSON.stringify({ kind: 1, content: 'bench', tags: [], created_at: 1 })
const rows = []
for (const [method, params] of [
  ['ping', []],
  ['sign_event', [template]],
] as Array<[string, string[]]>) {
  for (let i = 0; i < 200; i++) await request(method, params)
  const times: number[] = []
  for (let i = 0; i < N; i++) times.push(await request(method, params))
  rows.push({ request: method, n: N, 'p50 ms': round(percentile(times, 50), 3), 'p99 ms': round(percentile(times, 99), 3) })
}
console.log(`## primitives\n${table(primitives)}\n\n## request in -> reply dispatched (incl. verifying the request)\n${table(rows)}`)
console.log(`\nwritten ${writeResults('bunker', { primitives, requests: rows })}`)
await bunker.close()
relay.close()
await env.close()
process.exit(0)
