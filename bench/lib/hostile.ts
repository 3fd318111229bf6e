// What every hostile pattern of the soak gets: the setup, the run's control, its own tally, and
// what patterns in one process share (the storage filler's key, which the slow reader asks for).
import type { Control } from './soak-child.ts'
import type { SoakSetup } from './soak-setup.ts'
import { prefixOf, type Tally } from './tally.ts'
import { type Answer, type Identity, openClient, type WireClient } from './wire-client.ts'

export interface HostileContext {
  setup: SoakSetup
  ctl: Control
  tally: Tally
  shared: { filler: Identity }
}

export type Pattern = (ctx: HostileContext) => Promise<void>

/** One connection from the hostile address; a failure is counted and waited out a second (undefined). */
export async function hostileClient({ setup, ctl, tally }: HostileContext): Promise<WireClient | undefined> {
  const c = await openClient(setup.url, 5000, setup.hostileFrom).catch(() => undefined)
  if (c) return c
  tally.count('connect failed')
  await ctl.sleep(1000)
  return undefined
}

/** A bunker error text with its variable parts (names, numbers, ids) blanked, to count by. */
export const gist = (text: string): string =>
  text
    .replace(/\S*\d\S*/g, '…')
    .slice(0, 60)
    .trim()

/**
 * Counts an answer as `<what> <outcome>[ <prefix>]`: a relay's refusal by its NIP-01 prefix, a
 * bunker's error reply (which has none) by its gist. Keeps the first few texts as notes.
 */
export function record(tally: Tally, what: string, a: Answer): void {
  if (a.outcome === 'error') {
    tally.count(`${what} error: ${gist(a.text)}`)
    return
  }
  const refused = a.outcome === 'refused' || a.outcome === 'closed'
  tally.count(`${what} ${a.outcome}${refused ? ` ${prefixOf(a.text)}` : ''}`)
  if (refused) tally.note(`${what} ${a.outcome}: ${gist(a.text)}`)
}
