// Load generator for ingest: opens C connections, pre-signs E events per connection, prints `ready`,
// waits for `go` on stdin, then keeps W events in flight per connection until every event is
// answered or the time limit passes. Prints `done <okTrue> <okFalse> <startNs> <endNs>` (monotonic
// clock, comparable across processes). Usage: publisher.ts <url> <connections> <events> <window> <limitMs>
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'
import { publicKeyOf, signEvent } from '../../plugin/bunker/sign.ts'

const [url, connText, eventsText, windowText, limitText] = process.argv.slice(2)
const connections = Number(connText)
const perConn = Number(eventsText)
const window = Number(windowText)
const limitMs = Number(limitText)

const frames: string[][] = []
for (let c = 0; c < connections; c++) {
  const sk = randomBytes(32)
  const pk = publicKeyOf(sk)
  const list: string[] = []
  for (let i = 0; i < perConn; i++)
    list.push(
      JSON.stringify([
        'EVENT',
        signEvent(
          { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'bench']], content: `bench ${c} ${i} ${randomBytes(8).toString('hex')}` },
          sk,
          pk,
        ),
      ]),
    )
  frames.push(list)
}
const sockets = await Promise.all(
  frames.map(
    () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false })
        ws.once('open', () => resolve(ws))
        ws.once('error', reject)
      }),
  ),
)
console.log('ready')
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()))

let okTrue = 0
let okFalse = 0
const start = process.hrtime.bigint()
await Promise.race([
  Promise.all(
    sockets.map(
      (ws, c) =>
        new Promise<void>((resolve) => {
          let sent = 0
          let answered = 0
          const sendMore = () => {
            while (sent < perConn && sent - answered < window) ws.send(frames[c][sent++])
          }
          ws.on('message', (data) => {
            const text = data.toString()
            if (!text.startsWith('["OK"')) return
            if (text.includes('",true,')) okTrue++
            else okFalse++
            if (++answered === perConn) resolve()
            else sendMore()
          })
          sendMore()
        }),
    ),
  ),
  new Promise((r) => setTimeout(r, limitMs)),
])
const end = process.hrtime.bigint()
console.log(`done ${okTrue} ${okFalse} ${start} ${end}`)
for (const ws of sockets) ws.terminate()
process.exit(0)
