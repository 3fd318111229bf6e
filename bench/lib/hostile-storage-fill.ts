// Storage filling from one pubkey: large kind-1 events of incompressible content, published as fast
// as the relay OKs them, up to a byte cap that keeps the bench's disk use bounded. A relay with a
// per-pubkey quota refuses (or prunes) past it; the legitimate publishers' pubkeys stay far below.
import { randomBytes } from 'node:crypto'
import { signEvent } from '../../plugin/bunker/sign.ts'
import { record, type HostileContext } from './hostile.ts'
import { openClient, seconds, type WireClient } from './wire-client.ts'

export async function storageFill({ setup, ctl, tally, shared }: HostileContext): Promise<void> {
  const { eventBytes, inFlight, maxBytes } = setup.load.hostile.storageFill
  const { filler } = shared
  let accepted = 0
  let client: WireClient | undefined
  const connection = async (): Promise<WireClient | undefined> => {
    if (client?.isOpen()) return client
    client = await openClient(setup.url, 5000, setup.hostileFrom).catch(() => undefined)
    if (!client) tally.count('connect failed')
    return client
  }
  const worker = async () => {
    while (!ctl.stopped() && accepted < maxBytes) {
      const c = await connection()
      if (!c) {
        await ctl.sleep(1000)
        continue
      }
      const content = randomBytes(eventBytes / 2).toString('hex')
      const event = signEvent({ kind: 1, created_at: seconds(), tags: [['t', 'fill']], content }, filler.sk, filler.pk)
      const a = await c.publish(event, 30_000)
      record(tally, 'EVENT', a)
      if (a.outcome === 'ok') {
        accepted += eventBytes
        tally.sample('EVENT ok', a.ms)
      } else await ctl.sleep(a.outcome === 'refused' ? 100 : 500) // refused: try again, but not in a hot loop
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  if (accepted >= maxBytes) tally.note(`stopped at the bench's own cap of ${Math.round(maxBytes / 2 ** 20)} MB accepted`)
  tally.count('MB accepted', Math.round(accepted / 2 ** 20))
  client?.close()
}
