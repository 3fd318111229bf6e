// Slow consumers: a REQ whose legal result is far larger than the relay's per-connection send
// buffer (up to maxLimit events: seeded large ones, the storage filler's), read at a trickle
// from a bare TCP socket. A bounded relay pages the result under backpressure or hangs up on the
// reader; it never holds the whole result in memory for it.
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { signEvent } from '../../plugin/bunker/sign.ts'
import { record, type HostileContext } from './hostile.ts'
import { upgradedSocket } from './raw-tcp.ts'
import { frame } from './raw-ws.ts'
import { newIdentity, openClient, seconds } from './wire-client.ts'

const EOSE = '["EOSE","big"]'
const SEED_TAG = 'soak-big'

/** Reads one big REQ's answer at `rate` bytes/s until EOSE, the relay's hang-up, or the run's end. */
function readSlowly(socket: Socket, rate: number, ctl: HostileContext['ctl']): Promise<{ how: 'eose' | 'closed' | 'stopped'; bytes: number }> {
  return new Promise((resolve) => {
    let bytes = 0
    let tail = ''
    let settled = false
    const settle = (how: 'eose' | 'closed' | 'stopped') => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve({ how, bytes })
    }
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      const text = tail + chunk.toString('latin1')
      if (text.includes(EOSE)) return settle('eose')
      tail = text.slice(-EOSE.length)
      socket.pause()
      setTimeout(() => socket.resume(), (chunk.length / rate) * 1000)
    })
    socket.once('close', () => settle('closed'))
    void ctl.ended.then(() => settle('stopped'))
  })
}

/**
 * Stores ~24 MB of ordinary events (40 pubkeys, 10 events of 60 KB each: within any sane per-pubkey
 * quota), so that the slow readers' REQ has a legal result three times the default send buffer
 * whatever the storage filler managed.
 */
async function seed({ setup, ctl, tally }: HostileContext): Promise<void> {
  const c = await openClient(setup.url, 5000, setup.hostileFrom).catch(() => undefined)
  if (!c) return tally.count('seed connect failed')
  const authors = Array.from({ length: 40 }, () => newIdentity())
  const until = Date.now() + Math.min(60_000, (ctl.deadline - Date.now()) / 4) // a swamped relay must not eat the run
  let stored = 0
  const worker = async (w: number) => {
    for (let i = w; i < 400 && !ctl.stopped() && Date.now() < until && c.isOpen(); i += 4) {
      const a = authors[i % authors.length]
      const e = signEvent({ kind: 1, created_at: seconds(), tags: [['t', SEED_TAG]], content: randomBytes(30_000).toString('hex') }, a.sk, a.pk)
      const ok = await c.publish(e, 30_000)
      if (ok.outcome === 'ok') stored += 60_000
      else record(tally, 'seed EVENT', ok)
    }
  }
  await Promise.all([0, 1, 2, 3].map(worker))
  tally.note(`seeded ${Math.round(stored / 2 ** 20)} MB in 60 KB events before the first REQ`)
  c.close()
}

export async function slowReader(ctx: HostileContext): Promise<void> {
  const { setup, ctl, tally, shared } = ctx
  const { connections, bytesPerSecond } = setup.load.hostile.slowReader
  await seed(ctx)
  const limit = 5000
  const req = JSON.stringify(['REQ', 'big', { '#t': [SEED_TAG], limit }, { kinds: [1], limit }, { authors: [shared.filler.pk], limit }])
  const one = async () => {
    while (!ctl.stopped()) {
      const socket = await upgradedSocket(setup.url, setup.hostileFrom).catch(() => undefined)
      if (!socket) {
        tally.count('connect failed')
        await ctl.sleep(1000)
        continue
      }
      const t0 = performance.now()
      socket.write(frame(req))
      const { how, bytes } = await readSlowly(socket, bytesPerSecond, ctl)
      tally.count(how === 'eose' ? 'read to EOSE' : how === 'closed' ? 'closed by relay' : 'still reading at the end')
      tally.sample(`MB read (${how})`, bytes / 2 ** 20)
      tally.sample(`seconds (${how})`, (performance.now() - t0) / 1000)
      await ctl.sleep(2000)
    }
  }
  await Promise.all(Array.from({ length: connections }, one))
}
