// Metric label flood: NIP-46 requests with ever new, unknown method names, to the user key and to the
// bunker's admin identity, from a few throwaway keys. Each name that reaches a metric label is a new
// time series held forever; bench/soak.ts times /metrics scrapes alongside.
import { randomBytes } from 'node:crypto'
import { record, type HostileContext } from './hostile.ts'
import { atRate } from './rate.ts'
import { reconnecting } from './reconnecting.ts'
import { newIdentity } from './wire-client.ts'

export async function labelFlood({ setup, ctl, tally }: HostileContext): Promise<void> {
  const keys = Array.from({ length: 10 }, () => newIdentity())
  const conn = reconnecting(setup.url, ctl, tally, 'socket', (c) => c.listen(keys), setup.hostileFrom)
  await conn.ready
  let n = 0
  const paced = atRate(
    ctl,
    setup.load.hostile.labelFlood.perSecond,
    async () => {
      const c = conn.current()
      if (!c) return tally.count('skipped (not connected)')
      const i = n++
      const target = i % 2 === 0 ? setup.userKey.pubkey : setup.bunkerAdmin
      const a = await c.request(keys[i % keys.length], target, `m${i}_${randomBytes(4).toString('hex')}`, [], { timeoutMs: 10_000 })
      record(tally, i % 2 === 0 ? 'to user key' : 'to admin identity', a)
    },
    { maxInFlight: 500, onSkip: () => tally.count('skipped (in flight)') },
  )
  await paced.done
  tally.count('distinct method names sent', n)
  conn.close()
}
