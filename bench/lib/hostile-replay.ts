// Replay flood: the admin sends one request and keeps the signed event (as anyone watching the
// relay could); then a flood of cheap kind-24133 events to the bunker's admin identity from
// throwaway keys pushes it out of every "recently seen" memory; then the captured request is sent
// again. A replay that gets answered again is the failure; "duplicate:" is the right answer.
import { randomBytes } from 'node:crypto'
import { hexToBytes } from '@noble/hashes/utils.js'
import { signEvent } from '../../plugin/bunker/sign.ts'
import type { NostrEvent } from '../../relay/relay.ts'
import { hostileClient, record, type HostileContext } from './hostile.ts'
import { atRate } from './rate.ts'
import { newIdentity, seconds, type WireClient } from './wire-client.ts'

/** Replays are judged only while the captured request is inside the bunker's time window. */
const WINDOW_S = 280

async function flood(ctx: HostileContext, c: WireClient, keys: ReturnType<typeof newIdentity>[], count: number): Promise<number> {
  const { ctl, tally, setup } = ctx
  let sent = 0
  const stop = { stopped: () => ctl.stopped() || sent >= count || !c.isOpen() }
  const paced = atRate(
    { ...ctl, stopped: stop.stopped },
    setup.load.hostile.replay.perSecond,
    async () => {
      if (stop.stopped()) return
      if (c.buffered() > 4_000_000) return tally.count('flood skipped (client backlog)')
      const k = keys[sent % keys.length]
      const i = sent++
      const e = signEvent({ kind: 24133, created_at: seconds(), tags: [['p', setup.bunkerAdmin]], content: `x${i}` }, k.sk, k.pk)
      const a = await c.publish(e, 10_000)
      tally.count(`flood ${a.outcome}${a.outcome === 'refused' ? ` ${a.text.split(':')[0]}:` : ''}`)
    },
    { maxInFlight: 5000, onSkip: () => tally.count('flood skipped (in flight)') },
  )
  await paced.done
  return sent
}

export async function replayFlood(ctx: HostileContext): Promise<void> {
  const { setup, ctl, tally } = ctx
  const admin = newIdentity(hexToBytes(setup.adminSk))
  const keys = Array.from({ length: setup.load.hostile.replay.throwawayKeys }, () => newIdentity())
  while (!ctl.stopped()) {
    const c = await hostileClient(ctx)
    if (!c) continue
    c.listen([admin])
    const id = randomBytes(8).toString('hex')
    let captured: NostrEvent | undefined
    const first = await c.request(admin, setup.bunkerAdmin, 'ping', [], { id, timeoutMs: 10_000, event: (e) => (captured = e) })
    record(tally, 'captured request', first)
    const t0 = performance.now()
    const sent = await flood(ctx, c, keys, setup.load.hostile.replay.floodEvents)
    tally.sample('events flooded before the replay', sent)
    const age = seconds() - captured!.created_at
    if (sent < setup.load.hostile.replay.floodEvents || !c.isOpen() || age > WINDOW_S) {
      tally.count(age > WINDOW_S ? 'replay not tried (captured request too old)' : 'replay not tried (run ended or socket lost mid-flood)')
      c.close()
      continue
    }
    // the replay: the relay's OK, and whether the bunker answers the same request id again
    const [ok, again] = await Promise.all([c.publish(captured!, 10_000), c.awaitReply(admin, id, 5000)])
    tally.count(`replay OK ${ok.outcome}${ok.outcome === 'refused' ? ` ${ok.text.split(':')[0]}:` : ''}`)
    tally.count(again.outcome === 'result' || again.outcome === 'error' ? 'REPLAY ANSWERED AGAIN' : 'replay not answered')
    tally.sample('round seconds', (performance.now() - t0) / 1000)
    c.close()
  }
}
