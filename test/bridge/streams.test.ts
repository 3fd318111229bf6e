// General mirroring streams: down (REQ there, publish here), up (what our relay accepts, out there),
// both; an event is never sent back to the relay it came from, and filters choose what moves.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Filter } from 'nostr-tools/filter'
import { Relay } from 'nostr-tools/relay'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { signed, withTimeout } from '../helpers/clients.ts'
import type { BunkerServer } from '../helpers/bunker.ts'
import type { ServerProcess } from '../helpers/server.ts'
import { metric, startBridged, startUpstreamRelay } from './lib/setup.ts'

let downRelay: ServerProcess
let upRelay: ServerProcess
let bothRelay: ServerProcess
let b: BunkerServer
const author = generateSecretKey()

beforeAll(async () => {
  ;[downRelay, upRelay, bothRelay] = await Promise.all([startUpstreamRelay(), startUpstreamRelay(), startUpstreamRelay()])
  b = await startBridged([], {
    streams: [
      { dir: 'down', urls: [downRelay.url], filter: { kinds: [1], authors: [getPublicKey(author)] } },
      { dir: 'up', urls: [upRelay.url], filter: { kinds: [1, 20001] } },
      { dir: 'both', urls: [bothRelay.url], filter: { kinds: [7] } },
    ],
  })
})
afterAll(async () => {
  await b.server.stop()
  await Promise.all([downRelay.stop(), upRelay.stop(), bothRelay.stop()])
})

/** Resolves with the first event matching the filter at `url` (history or live), bounded. */
async function seen(url: string, filter: Filter, ms = 5000): Promise<{ id: string }> {
  const relay = await Relay.connect(url)
  try {
    return await withTimeout(
      new Promise((resolve) => {
        relay.subscribe([filter], { onevent: (e) => resolve(e) })
      }),
      ms,
      `an event matching ${JSON.stringify(filter)} at ${url}`,
    )
  } finally {
    relay.close()
  }
}

async function publish(url: string, ev: ReturnType<typeof signed>): Promise<void> {
  const relay = await Relay.connect(url)
  await relay.publish(ev)
  relay.close()
}

describe('mirroring streams', () => {
  test('down: matching events published there arrive here; others do not', async () => {
    const wanted = signed({ kind: 1 }, author)
    const other = signed({ kind: 1 }) // another author
    await publish(downRelay.url, other)
    await publish(downRelay.url, wanted)
    await seen(b.server.url, { ids: [wanted.id] })
    await new Promise((r) => setTimeout(r, 300))
    await expect(seen(b.server.url, { ids: [other.id] }, 300)).rejects.toThrow(/timeout/)
  })

  test('up: what our relay accepts and matches goes out, ephemeral events included; the rest stays', async () => {
    const note = signed({ kind: 1 })
    const ephemeral = signed({ kind: 20001 })
    const reaction = signed({ kind: 7 }) // not in the up stream's filter (it goes to the both-relay)
    const watch = seen(upRelay.url, { ids: [ephemeral.id] }) // ephemeral: only a live subscriber sees it
    await new Promise((r) => setTimeout(r, 200))
    for (const ev of [note, ephemeral, reaction]) await publish(b.server.url, ev)
    await seen(upRelay.url, { ids: [note.id] })
    await watch
    await expect(seen(upRelay.url, { ids: [reaction.id] }, 300)).rejects.toThrow(/timeout/)
  })

  test('both: down and up, and never back to where an event came from', async () => {
    const outBefore = await metric(b.server, 'nsecrelay_bridge_events_out_total', { upstream: bothRelay.url })
    const there = signed({ kind: 7 })
    await publish(bothRelay.url, there)
    await seen(b.server.url, { ids: [there.id] })
    const here = signed({ kind: 7 })
    await publish(b.server.url, here)
    await seen(bothRelay.url, { ids: [here.id] })
    await new Promise((r) => setTimeout(r, 300))
    // one event went up (ours); the one that came down was not sent back
    expect((await metric(b.server, 'nsecrelay_bridge_events_out_total', { upstream: bothRelay.url })) - outBefore).toBe(1)
  })
})
