// A TCP proxy on loopback that delays every chunk by a fixed one-way latency in each direction,
// keeping order. It stands for the network between clients (or a relay-client bunker) and a relay.
import { createServer, connect, type Server, type Socket } from 'node:net'

function delayed(from: Socket, to: Socket, ms: number): void {
  let last = 0
  from.on('data', (chunk) => {
    const at = Math.max(Date.now() + ms, last)
    last = at
    setTimeout(() => to.writable && to.write(chunk), at - Date.now())
  })
  from.on('close', () => setTimeout(() => to.destroy(), ms))
  from.on('error', () => to.destroy())
}

export interface LatencyProxy {
  url: string
  close(): Promise<void>
}

/** Listens on a free loopback port and forwards to targetPort, adding `ms` each way. */
export function startProxy(targetPort: number, ms: number): Promise<LatencyProxy> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    client.setNoDelay(true)
    const upstream = connect({ host: '127.0.0.1', port: targetPort }, () => upstream.setNoDelay(true))
    sockets.add(client).add(upstream)
    client.on('close', () => sockets.delete(client))
    upstream.on('close', () => sockets.delete(upstream))
    delayed(client, upstream, ms)
    delayed(upstream, client, ms)
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      resolve({
        url: `ws://127.0.0.1:${port}`,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      })
    })
  })
}
