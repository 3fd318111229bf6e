// Stalled partial frames: bare TCP clients that announce a large WebSocket payload, send part of it,
// then hold the socket open with a byte now and then. What a relay buffers for an unfinished frame
// is memory a stranger controls; a bounded one caps it (or the time a frame may take) and hangs up.
import type { Socket } from 'node:net'
import type { HostileContext } from './hostile.ts'
import { frameHeader, upgradedSocket } from './raw-tcp.ts'

const CHUNK = Buffer.alloc(64 * 1024, 0x20)
const TRICKLE_MS = 20_000

/** Sends `sent` bytes of the announced payload, then a byte every TRICKLE_MS; resolves on close or stop. */
function hold(socket: Socket, announced: number, sent: number, ctl: HostileContext['ctl']): Promise<'closed' | 'stopped'> {
  return new Promise((resolve) => {
    let settled = false
    let written = 0
    let timer: NodeJS.Timeout | undefined
    const settle = (how: 'closed' | 'stopped') => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(how)
    }
    socket.once('close', () => settle('closed'))
    void ctl.ended.then(() => settle('stopped'))
    socket.write(frameHeader(announced))
    const step = () => {
      if (settled) return
      if (written < sent) {
        const n = Math.min(CHUNK.length, sent - written)
        written += n
        socket.write(CHUNK.subarray(0, n))
        timer = setTimeout(step, 50)
      } else if (written < announced - 1) {
        written++
        socket.write(CHUNK.subarray(0, 1))
        timer = setTimeout(step, TRICKLE_MS)
      }
    }
    step()
  })
}

export async function partialFrames({ setup, ctl, tally }: HostileContext): Promise<void> {
  const { connections, announcedBytes, sentBytes, openPerSecond } = setup.load.hostile.partialFrames
  tally.note(`each announces ${Math.round(announcedBytes / 2 ** 20)} MB, sends ${Math.round(sentBytes / 1024)} KB, then a byte every ${TRICKLE_MS / 1000} s`)
  const one = async (i: number) => {
    await ctl.sleep((i / openPerSecond) * 1000) // ramp up
    while (!ctl.stopped()) {
      const socket = await upgradedSocket(setup.url, setup.hostileFrom).catch(() => undefined)
      if (!socket) {
        tally.count('connect failed')
        await ctl.sleep(1000)
        continue
      }
      tally.count('opened')
      const t0 = performance.now()
      const how = await hold(socket, announcedBytes, sentBytes, ctl)
      tally.count(how === 'closed' ? 'closed by relay' : 'held to the end')
      tally.sample(`seconds held (${how})`, (performance.now() - t0) / 1000)
      await ctl.sleep(2000)
    }
  }
  await Promise.all(Array.from({ length: connections }, (_, i) => one(i)))
}
