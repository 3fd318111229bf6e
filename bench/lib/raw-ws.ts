// A minimal RFC 6455 client for timing queries: the HTTP upgrade, masked text frames out, whole
// unmasked frames in, nothing else (no extensions, no fragmentation: neither relay fragments). A
// REQ->EOSE time taken with `ws` includes `ws` handling every EVENT frame before the EOSE, a cost
// of the client, not of the relay under test.
import { createHash, randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

export interface RawSocket {
  send(text: string): void
  close(): void
}

/** A frame's payload as a view of the read buffer: copy what must outlive the callback. */
export type OnFrame = (payload: Buffer) => void

const EMPTY = Buffer.alloc(0)
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** A masked text frame, as a client must send. */
export function frame(text: string, opcode = 0x1): Buffer {
  const payload = Buffer.from(text)
  const n = payload.length
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10
  const out = Buffer.allocUnsafe(head + 4 + n)
  out[0] = 0x80 | opcode
  if (n < 126) out[1] = 0x80 | n
  else if (n < 65_536) {
    out[1] = 0x80 | 126
    out.writeUInt16BE(n, 2)
  } else {
    out[1] = 0x80 | 127
    out.writeBigUInt64BE(BigInt(n), 2)
  }
  const mask = randomBytes(4)
  mask.copy(out, head)
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3]
  return out
}

/** Hands every whole frame at the front of `buf` to `onFrame`; returns the unfinished rest. */
function parse(buf: Buffer, socket: Socket, onFrame: OnFrame): Buffer {
  let off = 0
  while (buf.length - off >= 2) {
    const opcode = buf[off] & 0x0f
    let len = buf[off + 1] & 0x7f
    let head = 2
    if (len === 126) {
      if (buf.length - off < 4) break
      len = buf.readUInt16BE(off + 2)
      head = 4
    } else if (len === 127) {
      if (buf.length - off < 10) break
      len = Number(buf.readBigUInt64BE(off + 2))
      head = 10
    }
    if (buf.length - off < head + len) break
    const payload = buf.subarray(off + head, off + head + len)
    off += head + len
    if (opcode === 0x1) onFrame(payload)
    else if (opcode === 0x9)
      socket.write(frame(payload.toString('latin1'), 0xa)) // ping -> pong
    else if (opcode === 0x8) socket.end()
  }
  return buf.subarray(off)
}

/** Opens a WebSocket to a ws:// URL; resolves once the server has switched protocols. */
export function openRaw(url: string, onFrame: OnFrame): Promise<RawSocket> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true })
    const key = randomBytes(16).toString('base64')
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64')
    let upgraded = false
    let pending = EMPTY
    socket.once('error', reject)
    socket.once('connect', () =>
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    )
    socket.on('data', (chunk: Buffer) => {
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return void (pending = Buffer.from(buf))
        const head = buf.subarray(0, end).toString('latin1')
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
        upgraded = true
        buf = buf.subarray(end + 4)
        resolve({ send: (text) => socket.write(frame(text)), close: () => socket.end() })
      }
      const rest = parse(buf, socket, onFrame)
      pending = rest.length > 0 ? Buffer.from(rest) : EMPTY
    })
  })
}
