// A connection that comes back: reopened a second after it drops, until the run stops. Drops and
// failed attempts are counted, so a relay that hangs up on legitimate clients shows in the report.
import type { Control } from './soak-child.ts'
import type { Tally } from './tally.ts'
import { openClient, type WireClient } from './wire-client.ts'

export interface Reconnecting {
  current(): WireClient | undefined
  /** Resolves once the first connection is up (or the run stopped before it could be). */
  ready: Promise<void>
  /** Resolves when the run has stopped; the last connection stays open for answers still due. */
  done: Promise<void>
  close(): void
}

export function reconnecting(
  url: string,
  ctl: Control,
  tally: Tally,
  name: string,
  onOpen: (c: WireClient) => Promise<void> | void = () => {},
  from?: string,
): Reconnecting {
  let current: WireClient | undefined
  let first: () => void = () => {}
  const ready = new Promise<void>((r) => (first = r))
  const loop = async () => {
    let attempts = 0
    while (!ctl.stopped()) {
      try {
        const c = await openClient(url, 5000, from)
        await Promise.resolve(onOpen(c)).catch((err) => {
          c.close()
          throw err
        })
        current = c
        first()
        if (attempts++ > 0) tally.count(`${name} reconnected`)
        await Promise.race([c.closed, ctl.ended])
        if (ctl.stopped()) return
        current = undefined
        tally.count(`${name} dropped`)
      } catch {
        tally.count(`${name} connect failed`)
      }
      await ctl.sleep(1000)
    }
  }
  const done = loop().finally(first)
  return { current: () => current, ready, done, close: () => current?.close() }
}
