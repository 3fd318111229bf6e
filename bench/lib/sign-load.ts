// Load generator for sign_event: C NIP-46 clients, each on its own WebSocket, each connecting to the
// signer and then sending sign_event requests back to back. Crypto on the relay's own fast path
// (libsecp256k1, native when built, and cached conversation keys) so that the clients are not the
// bottleneck. Prints `ready` once every client has its ack, waits for `go` on stdin, runs for D ms,
// prints `done <ok> <errors>`.
// Usage: sign-load.ts <url> <signerPubkey> <clients> <nip44|nip04> <durationMs>
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'
import { createCipher, type Scheme } from '../../plugin/bunker/crypto.ts'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'

const [url, signer, clientsText, scheme, durationText] = process.argv.slice(2) as [string, string, string, Scheme, string]
const cipher = createCipher()
let ok = 0
let errors = 0
let running = false
let stopAt = 0

function client(): Promise<() => void> {
  const sk = randomBytes(32)
  const pk = publicKeyOf(sk)
  const ws = new WebSocket(url, { perMessageDeflate: false })
  let serial = 0
  let waiting: ((r: { result?: string; error?: string }) => void) | undefined
  const request = (method: string, params: string[]) =>
    new Promise<{ result?: string; error?: string }>((resolve) => {
      waiting = resolve
      const body = JSON.stringify({ id: `${pk.slice(0, 8)}-${serial++}`, method, params })
      const content = cipher.encrypt(scheme, sk, pk, signer, body)
      ws.send(JSON.stringify(['EVENT', signEvent({ kind: 24133, created_at: Math.floor(Date.now() / 1000), tags: [['p', signer]], content }, sk, pk)]))
    })
  ws.on('message', (data) => {
    const text = data.toString()
    if (!text.startsWith('["EVENT"')) return
    const ev = JSON.parse(text)[2] as { content: string; tags: string[][] }
    // Some relays (the reference relay) ignore tag filters when they fan out: skip replies to others.
    if (!ev.tags.some((t) => t[0] === 'p' && t[1] === pk)) return
    const reply = JSON.parse(cipher.decrypt(ev.content.includes('?iv=') ? 'nip04' : 'nip44', sk, pk, signer, ev.content))
    const w = waiting
    waiting = undefined
    w?.(reply)
  })
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', async () => {
      ws.send(JSON.stringify(['REQ', 'r', { kinds: [24133], authors: [signer], '#p': [pk], limit: 0 }]))
      const ack = await Promise.race([
        request('connect', [signer, '']),
        new Promise<{ result?: string; error?: string }>((res) => setTimeout(() => res({ error: 'connect timeout' }), 10_000)),
      ])
      if (ack.result !== 'ack') return reject(new Error(`connect: ${JSON.stringify(ack)}`))
      resolve(async () => {
        while (Date.now() < stopAt) {
          const template = JSON.stringify({ kind: 1, content: `load ${serial}`, tags: [], created_at: Math.floor(Date.now() / 1000) })
          const r = await Promise.race([
            request('sign_event', [template]),
            new Promise<{ error: string }>((res) => setTimeout(() => res({ error: 'timeout' }), 5000)),
          ])
          if (!running) break
          if (r.error) errors++
          else ok++
        }
      })
    })
  })
}

const loops = await Promise.all(Array.from({ length: Number(clientsText) }, client))
console.log('ready')
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()))
running = true
stopAt = Date.now() + Number(durationText)
await Promise.all(loops.map((run) => run()))
running = false
console.log(`done ${ok} ${errors}`)
process.exit(0)
