// A COUNT over everything, again and again from one connection: with NIP-45 done right it reads
// index entries, not event bodies, whatever the store holds (the storage filler's large events).
import { hostileClient, record, type HostileContext } from './hostile.ts'

export async function countEverything(ctx: HostileContext): Promise<void> {
  const { setup, ctl, tally } = ctx
  let n = 0
  while (!ctl.stopped()) {
    const c = await hostileClient(ctx)
    if (!c) continue
    while (!ctl.stopped() && c.isOpen()) {
      const a = await c.count(`c${n++}`, [{}], 30_000)
      record(tally, 'COUNT', a)
      if (a.outcome === 'count') {
        tally.sample('COUNT', a.ms)
        tally.sample('COUNT result (events)', a.n)
      }
      await ctl.sleep(setup.load.hostile.count.everyMs)
    }
    c.close()
  }
}
