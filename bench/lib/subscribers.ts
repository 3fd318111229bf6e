// Fan-out receivers: N connections, each with one live subscription to #t=fanout. Prints `ready`
// once every subscription has its EOSE, then records, per event id, when each connection got it
// (monotonic ns). On `report` (stdin) prints `report <json>`: {id: [ns...]}.
// Usage: subscribers.ts <url> <count>
import { createInterface } from 'node:readline'
import WebSocket from 'ws'

const [url, countText] = process.argv.slice(2)
const count = Number(countText)
const seen = new Map<string, bigint[]>()
const ID = /"id":"([0-9a-f]{64})"/
let eosed = 0

for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.on('open', () => ws.send(JSON.stringify(['REQ', 'f', { kinds: [1], '#t': ['fanout'], limit: 0 }])))
  ws.on('message', (data) => {
    const at = process.hrtime.bigint()
    const text = data.toString()
    if (text.startsWith('["EOSE"')) {
      if (++eosed === count) console.log('ready')
      return
    }
    if (!text.startsWith('["EVENT"')) return
    const id = ID.exec(text)?.[1] // cheaper than parsing: the receiver must not be what is measured
    if (!id) return
    let list = seen.get(id)
    if (!list) seen.set(id, (list = []))
    list.push(at)
  })
  ws.on('error', (err) => console.error('subscriber error', err.message))
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20)) // do not open a thousand sockets in one burst
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'report') return
  console.log(`report ${JSON.stringify(Object.fromEntries([...seen].map(([id, ts]) => [id, ts.map(String)])))}`)
})
