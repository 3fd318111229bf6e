// The guarantee through the reference relay (@nostr-relay/core) as the upstream: see lib/race.ts.
import { afterAll, beforeAll, describe, test } from 'vitest'
import { bunkerSignerIteration, ITERATIONS, REFERENCE_LANES, rig, run, teardown, type Rig } from './lib/race.ts'
import { startReferenceRelay } from './lib/setup.ts'

describe('through the reference relay (@nostr-relay/core) behind a 30 ms proxy', () => {
  let r: Rig | undefined
  beforeAll(async () => {
    r = await rig(await startReferenceRelay())
  })
  afterAll(() => teardown(r))

  test(`nostr-tools BunkerSigner: create_new_key + token, then connect + sign_event at once, ${ITERATIONS} times, zero lost`, async () => {
    await run(r!, 'reference upstream, BunkerSigner', REFERENCE_LANES, (i, failures) => bunkerSignerIteration(r!, i, failures))
  }, 240_000)
})
