// A bare TCP socket past the WebSocket upgrade, for clients that misbehave below the frame layer
// (a stalled partial frame, a reader that drains its socket slowly). Frames out via raw-ws.ts.
import { createHash, randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** Resolves with the socket once the server has switched protocols; anything after the 101 is dropped. */
export function upgradedSocket(url: string, from?: string, timeoutMs = 5000): Promise<Socket> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true, localAddress: from })
    const key = randomBytes(16).toString('base64')
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64')
    let head = ''
    const fail = (err: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const timer = setTimeout(() => fail(new Error('upgrade timed out')), timeoutMs)
    socket.once('error', fail)
    socket.once('connect', () =>
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    )
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      socket.off('error', fail)
      socket.on('error', () => {}) // the caller watches 'close'
      clearTimeout(timer)
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) return fail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
      resolve(socket)
    }
    socket.on('data', onData)
  })
}

/** The header of a masked text frame that announces `length` payload bytes, and its mask key. */
export function frameHeader(length: number): Buffer {
  const out = Buffer.alloc(14)
  out[0] = 0x81
  out[1] = 0x80 | 127
  out.writeBigUInt64BE(BigInt(length), 2)
  randomBytes(4).copy(out, 10)
  return out
}
