// The soak's probe: one client that every second publishes a small event and then asks for it back
// by id, timing both round trips. A failed or timed-out step counts as the timeout, so a stalled
// relay shows in the percentiles instead of vanishing from them.
import { randomBytes } from 'node:crypto'
import { signEvent } from '../../plugin/bunker/sign.ts'
import { newIdentity, openClient, seconds, type WireClient } from './wire-client.ts'

const TIMEOUT_MS = 5000
const EVERY_MS = 1000

export interface ProbeSample {
  /** ms since the probe started */
  t: number
  publishMs: number
  reqMs: number
  /** ok, or what went wrong: refused <text>, timeout, gone, not found, connect failed */
  outcome: string
}

export interface Probe {
  samples: ProbeSample[]
  /** Ids of the probe's events the relay OK'd. */
  okIds: string[]
  stop(): Promise<void>
}

export function startProbe(url: string): Probe {
  const me = newIdentity()
  const samples: ProbeSample[] = []
  const okIds: string[] = []
  const t0 = performance.now()
  let stopped = false
  let client: WireClient | undefined
  let n = 0

  async function round(): Promise<ProbeSample> {
    const t = performance.now() - t0
    if (!client?.isOpen()) client = await openClient(url, TIMEOUT_MS).catch(() => undefined)
    if (!client) return { t, publishMs: TIMEOUT_MS, reqMs: TIMEOUT_MS, outcome: 'connect failed' }
    const event = signEvent({ kind: 1, created_at: seconds(), tags: [['t', 'probe']], content: `probe ${n++} ${randomBytes(4).toString('hex')}` }, me.sk, me.pk)
    const pub = await client.publish(event, TIMEOUT_MS)
    if (pub.outcome !== 'ok') return { t, publishMs: TIMEOUT_MS, reqMs: TIMEOUT_MS, outcome: `${pub.outcome} ${pub.text}`.trim() }
    okIds.push(event.id)
    const req = await client.req(`p${n}`, [{ ids: [event.id] }], { timeoutMs: TIMEOUT_MS, close: true })
    if (req.outcome !== 'eose') return { t, publishMs: pub.ms, reqMs: TIMEOUT_MS, outcome: `REQ ${req.outcome} ${req.text}`.trim() }
    return { t, publishMs: pub.ms, reqMs: req.ms, outcome: req.n === 1 ? 'ok' : 'not found' }
  }

  const loop = (async () => {
    while (!stopped) {
      const started = performance.now()
      samples.push(await round())
      const wait = EVERY_MS - (performance.now() - started)
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait))
    }
    client?.close()
  })()

  return {
    samples,
    okIds,
    async stop() {
      stopped = true
      await loop
    },
  }
}
