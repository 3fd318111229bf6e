// The nsecbunkerd architecture: an NDKNip46Backend running as a relay *client*. Started the way
// nsecbunkerd starts a key (`await backend.start()`, then reply), or with the EOSE-wait fix.
// Driven over IPC: {create: id} makes a key and, once started, publishes the reply through the
// relay as a kind 24134 event to the harness. Every request that reaches a backend is reported
// over IPC as {seen: pubkey}. Usage: backend-b.ts <relayUrl> <ndk281|ndk303> <plain|eose> <harnessPubkey>
import WebSocket from 'ws'
;(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket
import { randomBytes } from 'node:crypto'
import * as ndk303 from '@nostr-dev-kit/ndk'
import * as ndk281 from 'ndk281'

const [relayUrl, version, mode, harness] = process.argv.slice(2)
const lib = (version === 'ndk281' ? ndk281 : ndk303) as unknown as typeof ndk303
const NDK = lib.default
const ndk = new NDK({ explicitRelayUrls: [relayUrl], enableOutboxModel: false } as never)
await ndk.connect(5000)
const admin = new lib.NDKPrivateKeySigner(randomBytes(32).toString('hex') as never)
const send = (m: object) => process.send!(m)

type Backend = InstanceType<typeof lib.NDKNip46Backend> & { handleIncomingEvent(e: unknown): Promise<void> }

/** The fix from nsecbunkerd PR #10: the key's subscription is awaited until the relay's EOSE. */
async function startWithEose(backend: Backend, pubkey: string): Promise<void> {
  backend.localUser = await backend.signer.user()
  await new Promise<void>((resolve) => {
    const sub = ndk.subscribe({ kinds: [24133 as never], '#p': [pubkey] }, {
      closeOnEose: false,
      onEvent: (e: unknown) => backend.handleIncomingEvent(e),
      onEose: () => resolve(),
    } as never)
    ;(sub as unknown as { on?: (ev: string, f: () => void) => void }).on?.('eose', () => resolve())
  })
}

async function create(id: string): Promise<void> {
  const sk = randomBytes(32)
  const signer = new lib.NDKPrivateKeySigner((version === 'ndk281' ? sk.toString('hex') : new Uint8Array(sk)) as never)
  const pubkey = (await signer.user()).pubkey
  const backend = new lib.NDKNip46Backend(ndk, signer as never, async () => true) as Backend
  const handle = backend.handleIncomingEvent.bind(backend)
  backend.handleIncomingEvent = async (e) => {
    send({ seen: pubkey })
    return handle(e)
  }
  if (mode === 'eose') await startWithEose(backend, pubkey)
  else await backend.start()
  const reply = new lib.NDKEvent(ndk, {
    kind: 24134,
    tags: [['p', harness]],
    content: JSON.stringify({ id, pubkey }),
    created_at: Math.floor(Date.now() / 1000),
  } as never)
  await reply.sign(admin as never)
  await reply.publish()
}

process.on('message', (m: { create?: string }) => {
  if (m.create) create(m.create).catch((err) => console.error('create failed', err))
})
send({ ready: true })
