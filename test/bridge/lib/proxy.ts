// The tests' own TCP proxy on loopback: a fixed one-way latency in each direction, order kept. It
// can be cut (every connection dropped, new ones refused) and restored on the same port, to take a
// link down while both ends stay up; or pointed at another port, for a relay restarted elsewhere
// (a port with connections in TIME_WAIT cannot be listened on again at once).
import { connect, createServer, type Server, type Socket } from 'node:net'

function delayed(from: Socket, to: Socket, ms: number): void {
  let last = 0
  from.on('data', (chunk) => {
    if (ms === 0) return void (to.writable && to.write(chunk))
    const at = Math.max(Date.now() + ms, last)
    last = at
    setTimeout(() => to.writable && to.write(chunk), at - Date.now())
  })
  from.on('close', () => setTimeout(() => to.destroy(), ms))
  from.on('error', () => to.destroy())
}

export interface TestProxy {
  url: string
  port: number
  /** Drops every connection and stops listening. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  /** New connections go to this port from now on. */
  retarget(port: number): void
  close(): Promise<void>
}

export async function startTestProxy(targetPort: number, ms: number): Promise<TestProxy> {
  const sockets = new Set<Socket>()
  let target = targetPort
  let server: Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        client.setNoDelay(true)
        const upstream = connect({ host: '127.0.0.1', port: target }, () => upstream.setNoDelay(true))
        sockets.add(client).add(upstream)
        client.on('close', () => sockets.delete(client))
        upstream.on('close', () => sockets.delete(upstream))
        delayed(client, upstream, ms)
        delayed(upstream, client, ms)
      })
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port
        server = s
        resolve()
      })
    })
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      sockets.clear()
      if (!server) return resolve()
      server.close(() => resolve())
      server = undefined
    })
  await listen()
  return { url: `ws://127.0.0.1:${port}`, port, cut, restore: listen, retarget: (p) => void (target = p), close: cut }
}
