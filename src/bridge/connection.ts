// One outbound WebSocket to a relay, kept up: reconnects with backoff and full jitter, pings every
// `pingSeconds` and drops a connection that misses a pong, refuses frames above `maxPayload`.
// permessage-deflate is off (relays' own choice too: it costs CPU and memory per socket).
import WebSocket from 'ws'
import { createBackoff } from './backoff.ts'

export interface ConnectionOptions {
  url: string
  maxPayload: number
  reconnectMinMs: number
  reconnectMaxMs: number
  stableMs: number
  pingSeconds: number
  /** The socket is open; `reconnect` is true from the second connection on. */
  onOpen(reconnect: boolean): void
  onFrame(frame: unknown[]): void
  /** The socket is gone (a reconnect is scheduled unless closed). */
  onClose(reason: string): void
  /** A reconnect attempt is about to start (for metrics). */
  onRetry?(delayMs: number): void
  /** A frame handler threw: logged by the caller, the connection goes on. */
  onError?(err: unknown): void
}

export interface Connection {
  /** False when the socket is not open (the frame was not sent). */
  send(frame: unknown[] | string): boolean
  readonly open: boolean
  readonly bufferedAmount: number
  /** Date.now() of the last frame or pong received: the last sign of life. */
  readonly lastAlive: number
  /** Drops the current socket (it will reconnect). */
  drop(reason: string): void
  close(): Promise<void>
}

export function createConnection(o: ConnectionOptions): Connection {
  const backoff = createBackoff({ minMs: o.reconnectMinMs, maxMs: o.reconnectMaxMs, stableMs: o.stableMs })
  let ws: WebSocket | undefined
  let isOpen = false
  let closed = false
  let everOpened = false
  let lastAlive = 0
  let retryTimer: NodeJS.Timeout | undefined
  let pingTimer: NodeJS.Timeout | undefined
  let awaitingPong = false
  let done: (() => void) | undefined
  /** Ends the current socket, whatever its state. */
  let endCurrent: ((reason: string) => void) | undefined

  function connect(): void {
    retryTimer = undefined
    if (closed) return
    const socket = new WebSocket(o.url, { perMessageDeflate: false, maxPayload: o.maxPayload, handshakeTimeout: 10_000 })
    ws = socket
    let ended = false
    const end = (reason: string) => {
      if (ended) return
      ended = true
      const wasOpen = isOpen
      isOpen = false
      clearInterval(pingTimer)
      if (wasOpen) backoff.disconnected()
      socket.removeAllListeners()
      socket.on('error', () => {}) // late errors of a socket we let go
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate()
      if (ws === socket) {
        ws = undefined
        endCurrent = undefined
      }
      if (wasOpen) o.onClose(reason)
      if (closed) return done?.()
      const delay = backoff.next()
      o.onRetry?.(delay)
      retryTimer = setTimeout(connect, delay)
      retryTimer.unref()
    }
    socket.on('open', () => {
      isOpen = true
      lastAlive = Date.now()
      backoff.connected()
      awaitingPong = false
      pingTimer = setInterval(() => {
        if (awaitingPong) return end('no pong')
        awaitingPong = true
        socket.ping()
      }, o.pingSeconds * 1000)
      pingTimer.unref()
      const reconnect = everOpened
      everOpened = true
      o.onOpen(reconnect)
    })
    socket.on('pong', () => {
      awaitingPong = false
      lastAlive = Date.now()
    })
    socket.on('message', (data, isBinary) => {
      if (isBinary) return
      lastAlive = Date.now()
      let frame: unknown
      try {
        frame = JSON.parse(data.toString())
      } catch {
        return
      }
      if (!Array.isArray(frame) || typeof frame[0] !== 'string') return
      try {
        o.onFrame(frame)
      } catch (err) {
        o.onError?.(err) // whatever an upstream sends must not take the process down
      }
    })
    socket.on('close', (code) => end(`closed ${code}`))
    socket.on('error', (err) => end(`error ${(err as Error).message}`))
    endCurrent = end
  }

  connect()

  return {
    send(frame) {
      if (!isOpen || !ws) return false
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
      return true
    },
    get open() {
      return isOpen
    },
    get bufferedAmount() {
      return ws?.bufferedAmount ?? 0
    },
    get lastAlive() {
      return lastAlive
    },
    drop(reason) {
      endCurrent?.(reason)
    },
    close() {
      closed = true
      clearTimeout(retryTimer)
      const end = endCurrent
      if (!end) return Promise.resolve()
      return new Promise<void>((resolve) => {
        done = resolve
        end('closing')
      })
    },
  }
}
