// The fan-out floor of this machine: bare uWS.js that answers every REQ with EOSE and relays every
// EVENT, as received, to every other socket: no parsing beyond the verb, no signature check, no
// storage, no filters. What a relay adds to fan-out is measured against this.
// Prints `listening ws://127.0.0.1:<port>`.
import { createRequire } from 'node:module'
import type * as Uws from 'uWebSockets.js'

const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof Uws
const sockets = new Set<Uws.WebSocket<unknown>>()
const decoder = new TextDecoder()

uws
  .App()
  .ws('/*', {
    maxPayloadLength: 1 << 20,
    open: (ws) => void sockets.add(ws),
    close: (ws) => void sockets.delete(ws),
    message(ws, message) {
      const text = decoder.decode(message)
      if (text.startsWith('["REQ"')) return void ws.send(`["EOSE",${JSON.stringify(JSON.parse(text)[1])}]`)
      if (!text.startsWith('["EVENT"')) return
      const frame = `["EVENT","f",${text.slice(9, -1)}]`
      for (const other of sockets) if (other !== ws) other.cork(() => other.send(frame, false))
    },
  })
  .listen('127.0.0.1', 0, (token) => {
    if (!token) throw new Error('listen failed')
    console.log(`listening ws://127.0.0.1:${uws.us_socket_local_port(token)}`)
  })
