// Huge filters: connections each sending REQ after REQ whose one filter carries tens of thousands of
// #t values (~500 KB a frame), cycling through more subscription ids than a connection may hold, so
// the open ones stay open. A bounded relay refuses them cheaply or holds only what its limits allow.
import { randomBytes } from 'node:crypto'
import { hostileClient, record, type HostileContext } from './hostile.ts'

export async function hugeFilters(ctx: HostileContext): Promise<void> {
  const { setup, ctl, tally } = ctx
  const { connections, values, subIds, pauseMs } = setup.load.hostile.hugeFilters
  const one = async () => {
    const body = JSON.stringify({ '#t': Array.from({ length: values }, () => randomBytes(6).toString('hex')), limit: 10 })
    tally.note(`REQ frame ~${Math.round(body.length / 1024)} KB, ${values} #t values`)
    let n = 0
    while (!ctl.stopped()) {
      const c = await hostileClient(ctx)
      if (!c) continue
      while (!ctl.stopped() && c.isOpen()) {
        const subId = `h${n++ % subIds}`
        const a = await c.reqFrame(subId, `["REQ","${subId}",${body}]`, 15_000)
        record(tally, 'REQ', a)
        if (a.outcome !== 'gone') tally.sample(`REQ ${a.outcome}`, a.ms)
        await ctl.sleep(pauseMs)
      }
      if (!ctl.stopped()) tally.count('dropped by relay')
      c.close()
      await ctl.sleep(1000)
    }
  }
  await Promise.all(Array.from({ length: connections }, one))
}
