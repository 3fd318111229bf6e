// The soak's bunker clients, in their own process: each on its own socket, connects to the user key
// with its own token (redeemed once, then idempotent on reconnects), then asks for one kind-1
// signature every intervalMs (jittered), waiting for each reply. Usage: soak-signers.ts <setupFile>
import { childControl, readSetup } from './soak-child.ts'
import type { SoakSetup } from './soak-setup.ts'
import { reconnecting, type Reconnecting } from './reconnecting.ts'
import { createTally, prefixOf } from './tally.ts'
import { newIdentity, seconds, type Identity, type WireClient } from './wire-client.ts'

const setup = readSetup<SoakSetup>(process.argv[2])
const { url, load, userKey } = setup
const ctl = childControl()
const tally = createTally()

async function connect(c: WireClient, me: Identity, token: string): Promise<void> {
  c.listen([me])
  const a = await c.request(me, userKey.pubkey, 'connect', [userKey.pubkey, token], { timeoutMs: 15_000 })
  if (a.outcome !== 'result' || a.text !== 'ack') {
    tally.note(`connect: ${a.outcome} ${a.text.slice(0, 100)}`)
    throw new Error('connect refused')
  }
  tally.sample('connect', a.ms)
}

async function signLoop(conn: Reconnecting, me: Identity): Promise<void> {
  const interval = load.sign.intervalMs
  await ctl.sleep(Math.random() * interval) // spread the clients over the interval
  while (!ctl.stopped()) {
    const c = conn.current()
    if (c) {
      const template = JSON.stringify({ kind: 1, content: `soak signer ${me.pk.slice(0, 8)}`, tags: [], created_at: seconds() })
      const a = await c.request(me, userKey.pubkey, 'sign_event', [template], { timeoutMs: 10_000 })
      if (a.outcome === 'result') {
        const signed = JSON.parse(a.text) as { pubkey?: string; sig?: string }
        tally.count(signed.pubkey === userKey.pubkey && signed.sig ? 'sign ok' : 'sign bad result')
        tally.sample('sign', a.ms)
      } else {
        tally.count(`sign ${a.outcome}${a.outcome === 'refused' || a.outcome === 'error' ? ` ${prefixOf(a.text)}` : ''}`)
        if (a.text) tally.note(`sign ${a.outcome}: ${a.text.slice(0, 100)}`)
      }
    } else tally.count('sign skipped (not connected)')
    await ctl.sleep(interval * (0.5 + Math.random()))
  }
}

const clients = setup.tokens.slice(0, load.sign.clients).map((token) => {
  const me = newIdentity()
  return { me, conn: reconnecting(url, ctl, tally, 'signer', (c) => connect(c, me, token)) }
})

await ctl.run({
  // every client has its ack before the run starts (or the parent gives up waiting)
  prepare: () => Promise.all(clients.map((c) => c.conn.ready)),
  work: async () => {
    await Promise.all(clients.map((c) => signLoop(c.conn, c.me)))
    for (const c of clients) c.conn.close()
  },
  report: () => ({ role: 'signers', clients: clients.length, ...tally.snapshot() }),
})
