// Real clients over `ws` (Node 20 has no global WebSocket), and small helpers for raw frames.
import WebSocket from 'ws'
import { useWebSocketImplementation } from 'nostr-tools/pool'
import { finalizeEvent, generateSecretKey, type EventTemplate } from 'nostr-tools/pure'

useWebSocketImplementation(WebSocket)
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

export { WebSocket }

export const now = (): number => Math.floor(Date.now() / 1000)

export function signed(template: Partial<EventTemplate> = {}, sk: Uint8Array = generateSecretKey()) {
  return finalizeEvent({ kind: 1, content: `hello ${Math.random()}`, tags: [], created_at: now(), ...template }, sk)
}

/** A raw socket that records every frame it receives, for malformed-input tests. */
export interface RawClient {
  ws: WebSocket
  frames: unknown[][]
  send(frame: unknown): void
  sendText(text: string): void
  /** Resolves with the first frame at index >= `from` (already received or yet to come) that satisfies the predicate. */
  next(pred: (f: unknown[]) => boolean, timeoutMs?: number, from?: number): Promise<unknown[]>
  close(): void
}

/** `localAddress` picks the loopback address it connects from, for per-address limits. */
export function rawClient(url: string, opts: { localAddress?: string } = {}): Promise<RawClient> {
  const ws = new WebSocket(url, opts)
  const frames: unknown[][] = []
  const waiters: Array<{ pred: (f: unknown[]) => boolean; resolve: (f: unknown[]) => void }> = []
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as unknown[]
    frames.push(f)
    for (const w of [...waiters])
      if (w.pred(f)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(f)
      }
  })
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        send: (frame) => ws.send(JSON.stringify(frame)),
        sendText: (text) => ws.send(text),
        next(pred, timeoutMs = 5000, from = 0) {
          const seen = frames.slice(from).find(pred)
          if (seen) return Promise.resolve(seen)
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error('timed out waiting for a frame')), timeoutMs)
            waiters.push({
              pred,
              resolve: (f) => {
                clearTimeout(t)
                res(f)
              },
            })
          })
        },
        close: () => ws.close(),
      }),
    )
  })
}

/** Rejects after `ms`: every call to a client without a timeout of its own goes through this. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timeout: ${what} after ${ms} ms`)), ms))),
  ])
}
