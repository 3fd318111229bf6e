// Opens N idle WebSocket connections (no subscription) and holds them. Prints `ready <open>` once
// all are open (or the time limit passes). Usage: idle-clients.ts <url> <count> <limitMs>
import WebSocket from 'ws'

const [url, countText, limitText] = process.argv.slice(2)
const count = Number(countText)
let open = 0
let failed = 0
const sockets: WebSocket[] = []
const deadline = Date.now() + Number(limitText)

/** Opens connections in batches of 500: a burst of 10,000 would overflow the listen backlog. */
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.once('open', () => {
      open++
      resolve()
    })
    ws.once('error', () => {
      failed++
      resolve()
    })
    sockets.push(ws)
  })
}
for (let i = 0; i < count && Date.now() < deadline; i += 500) {
  await Promise.all(Array.from({ length: Math.min(500, count - i) }, openOne))
}
console.log(`ready ${open} ${failed}`)
process.on('SIGTERM', () => process.exit(0))
setInterval(() => {}, 60_000)
