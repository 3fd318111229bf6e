// Approval prompt flood: unknown clients ask the user key for signatures; each request finds no
// permission, so the bunker asks every admin (an acl request) and holds the request until an answer
// or its timeout. The admin's client listens and stays silent. A bounded bunker caps the pending
// questions (per key, per client) and refuses the rest at once.
import { hexToBytes } from '@noble/hashes/utils.js'
import type { NostrEvent } from '../../relay/relay.ts'
import { record, type HostileContext } from './hostile.ts'
import { atRate } from './rate.ts'
import { reconnecting } from './reconnecting.ts'
import { newIdentity, seconds } from './wire-client.ts'

export async function approvalFlood({ setup, ctl, tally }: HostileContext): Promise<void> {
  const { perSecond, clients } = setup.load.hostile.approvals
  const admin = newIdentity(hexToBytes(setup.adminSk))
  const strangers = Array.from({ length: clients }, () => newIdentity())
  // the admin's listening client: counts the questions it is sent
  const listener = reconnecting(setup.url, ctl, tally, 'admin listener', async (c) => {
    c.onLive((_sub: string, e: NostrEvent) => e.pubkey === setup.bunkerAdmin && tally.count('acl questions reaching the admin'))
    await c.req('acl', [{ kinds: [24134], authors: [setup.bunkerAdmin], '#p': [admin.pk], limit: 0 }])
  })
  const conn = reconnecting(setup.url, ctl, tally, 'socket', (c) => c.listen(strangers), setup.hostileFrom)
  await Promise.all([listener.ready, conn.ready])
  let n = 0
  const paced = atRate(
    ctl,
    perSecond,
    async () => {
      const c = conn.current()
      if (!c) return tally.count('skipped (not connected)')
      const template = JSON.stringify({ kind: 1, content: `please sign ${n}`, tags: [], created_at: seconds() })
      const a = await c.request(strangers[n++ % strangers.length], setup.userKey.pubkey, 'sign_event', [template], { timeoutMs: 30_000 })
      if (a.outcome === 'gone' && ctl.stopped()) return tally.count('still pending when the run ended')
      record(tally, 'sign_event', a)
      tally.sample(`sign_event ${a.outcome}`, a.ms)
    },
    { maxInFlight: 3000, onSkip: () => tally.count('skipped (in flight)') },
  )
  await paced.done
  tally.count('requests sent', n)
  listener.close()
  conn.close()
}
