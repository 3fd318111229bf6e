// The guarantee through a second nsecrelay (no admins) as the upstream: see lib/race.ts.
import { afterAll, beforeAll, describe, test } from 'vitest'
import NDK from '@nostr-dev-kit/ndk'
import { withTimeout } from '../helpers/clients.ts'
import { STEP_MS } from '../helpers/bunker.ts'
import { bunkerSignerIteration, ITERATIONS, LANES, ndkIteration, rig, run, teardown, type Rig } from './lib/race.ts'
import { startUpstreamRelay } from './lib/setup.ts'

describe('through a second nsecrelay (no admins) behind a 30 ms proxy', () => {
  let r: Rig | undefined
  let ndk: NDK | undefined
  beforeAll(async () => {
    r = await rig(await startUpstreamRelay())
    ndk = new NDK({ explicitRelayUrls: [r.proxy.url], enableOutboxModel: false })
    await withTimeout(ndk.connect(), STEP_MS, 'ndk connect')
  })
  afterAll(async () => {
    for (const relay of ndk?.pool.relays.values() ?? []) relay.disconnect()
    await teardown(r)
  })

  test(`nostr-tools BunkerSigner: create_new_key + token, then connect + sign_event at once, ${ITERATIONS} times, zero lost`, async () => {
    await run(r!, 'nsecrelay upstream, BunkerSigner', LANES, (i, failures) => bunkerSignerIteration(r!, i, failures))
  }, 240_000)

  test(`NDK NDKNip46Signer: create_new_key + token, then bunker:// login + sign at once, ${ITERATIONS} times, zero lost`, async () => {
    await run(r!, 'nsecrelay upstream, NDK', LANES, (i, failures) => ndkIteration(r!, ndk!, i, failures))
  }, 240_000)
})
