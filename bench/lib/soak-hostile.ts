// The soak's hostile clients, in their own process: the named patterns run side by side, each with
// its own tally. Usage: soak-hostile.ts <setupFile> <pattern,pattern,...>
import { approvalFlood } from './hostile-approvals.ts'
import { countEverything } from './hostile-count.ts'
import { hugeFilters } from './hostile-filters.ts'
import { labelFlood } from './hostile-labels.ts'
import { partialFrames } from './hostile-partial-frames.ts'
import { replayFlood } from './hostile-replay.ts'
import { scryptFlood } from './hostile-scrypt.ts'
import { slowReader } from './hostile-slow-reader.ts'
import { storageFill } from './hostile-storage-fill.ts'
import type { Pattern } from './hostile.ts'
import { childControl, readSetup } from './soak-child.ts'
import type { SoakSetup } from './soak-setup.ts'
import { createTally, type Tally } from './tally.ts'
import { newIdentity } from './wire-client.ts'

const PATTERNS: Record<string, Pattern> = {
  hugeFilters,
  count: countEverything,
  slowReader,
  partialFrames,
  storageFill,
  labelFlood,
  replay: replayFlood,
  scrypt: scryptFlood,
  approvals: approvalFlood,
}

const [setupFile, names] = process.argv.slice(2)
const setup = readSetup<SoakSetup>(setupFile)
const ctl = childControl()
const chosen = names.split(',').filter((n) => Object.hasOwn(PATTERNS, n))
const tallies: Record<string, Tally> = Object.fromEntries(chosen.map((n) => [n, createTally()]))
const shared = { filler: newIdentity() }

await ctl.run({
  work: () =>
    Promise.all(
      chosen.map((name) =>
        PATTERNS[name]({ setup, ctl, tally: tallies[name], shared }).catch((err) => tallies[name].note(`pattern failed: ${(err as Error).message}`)),
      ),
    ),
  report: () => ({ role: 'hostile', patterns: Object.fromEntries(chosen.map((n) => [n, tallies[n].snapshot()])) }),
})
