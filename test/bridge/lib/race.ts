// The race through an upstream, shared by race-upstream.test.ts (a second nsecrelay) and
// race-reference.test.ts (the reference relay): clients that know only the upstream's URL (behind a
// proxy adding 30 ms each way, which the bunker's bridge also goes through) create a key, get a
// token, and connect and sign at once. Nobody sleeps; nothing may be lost. Iterations run on
// several lanes at a time, as many admins and clients would.
import { expect } from 'vitest'
import type NDK from '@nostr-dev-kit/ndk'
import { NDKEvent, NDKNip46Signer, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk'
import { BunkerSigner } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey, verifyEvent, type Event } from 'nostr-tools/pure'
import { now, withTimeout } from '../../helpers/clients.ts'
import { fastPool, npubToHex, STEP_MS, userBunkerUri, type AdminClient, type BunkerServer } from '../../helpers/bunker.ts'
import { startTestProxy, type TestProxy } from './proxy.ts'
import { adminThrough, inLanes, metric, startBridged } from './setup.ts'

export const ITERATIONS = 500
export const LANES = 16
/**
 * The reference relay keeps at most 20 subscriptions per connection and silently evicts the oldest
 * (an LRU): clients sharing one connection must stay below that.
 */
export const REFERENCE_LANES = 12
const LATENCY_MS = 30

export interface Rig {
  upstream: { url: string; stop(): Promise<unknown> }
  proxy: TestProxy
  b: BunkerServer
  pool: SimplePool
  admin: AdminClient
}

/** `extra`: more top-level config for the bridged server (its `bunker` section replaces the test default). */
export async function rig(upstream: Rig['upstream'], extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<Rig> {
  const proxy = await startTestProxy(Number(new URL(upstream.url).port), LATENCY_MS)
  const b = await startBridged([proxy.url], {}, extra, { env })
  const pool = await fastPool()
  const admin = await adminThrough(b, proxy.url, pool)
  expect(await admin.call('create_new_policy', [JSON.stringify({ name: 'sign', rules: [{ method: 'sign_event' }] })])).toBe('["ok"]')
  return { upstream, proxy, b, pool, admin }
}

export async function teardown(r: Rig | undefined): Promise<void> {
  if (!r) return
  await r.admin.close()
  r.pool.destroy()
  await r.b.server.stop()
  await r.proxy.close()
  await r.upstream.stop()
}

/** create_new_key -> create_new_token -> get_key_tokens, all through the upstream; the token's secret. */
async function keyWithToken(admin: AdminClient, name: string): Promise<{ pubkey: string; secret: string }> {
  const { npub } = JSON.parse(await admin.call('create_new_key', [name, 'pw']))
  expect(await admin.call('create_new_token', [name, `client-${name}`, '1'])).toBe('["ok"]')
  const [token] = JSON.parse(await admin.call('get_key_tokens', [name]))
  return { pubkey: npubToHex(npub), secret: token.token.split('#')[1] }
}

/** One BunkerSigner iteration: fresh key and token through the upstream, then connect + sign_event. */
export async function bunkerSignerIteration(r: Rig, i: number, failures: string[]): Promise<void> {
  const { pubkey, secret } = await keyWithToken(r.admin, `bs-${i}`)
  const signer = BunkerSigner.fromBunker(generateSecretKey(), { pubkey, relays: [r.proxy.url], secret }, { pool: r.pool })
  try {
    await withTimeout(signer.connect(), STEP_MS, `connect #${i}`)
    const ev = await withTimeout(signer.signEvent({ kind: 1, content: `n${i}`, tags: [], created_at: now() }), STEP_MS, `sign_event #${i}`)
    if (!verifyEvent(ev) || ev.pubkey !== pubkey) failures.push(`#${i}: bad signature`)
  } catch (err) {
    failures.push((err as Error).message)
  } finally {
    await signer.close()
  }
}

/**
 * An NDK signer that stays on the upstream and lets go of its socket. NDK 3.0.3 calls switch_relays
 * after connecting and moves to what it is told (our URL and the upstream: a second route this test
 * is not about), and each signer opens a relay pool of its own that stop() leaves connected.
 */
function ndkSigner(ndk: NDK, uri: string): { signer: NDKNip46Signer; stop(): void } {
  const signer = NDKNip46Signer.bunker(ndk, uri, NDKPrivateKeySigner.generate())
  ;(signer as unknown as { switchRelays(): Promise<void> }).switchRelays = async () => {}
  return {
    signer,
    stop() {
      signer.stop()
      const { pool } = signer.rpc as unknown as { pool?: { relays: Map<string, { disconnect(): void }> } }
      for (const relay of pool?.relays.values() ?? []) relay.disconnect()
    },
  }
}

/** One NDK iteration: fresh key and token through the upstream, then bunker:// login + sign. */
export async function ndkIteration(r: Rig, ndk: NDK, i: number, failures: string[]): Promise<void> {
  const { pubkey, secret } = await keyWithToken(r.admin, `ndk-${i}`)
  const { signer, stop } = ndkSigner(ndk, userBunkerUri(pubkey, r.proxy.url, secret))
  try {
    const user = await withTimeout(signer.blockUntilReady(), STEP_MS, `blockUntilReady #${i}`)
    if (user.pubkey !== pubkey) failures.push(`#${i}: wrong pubkey`)
    const ev = new NDKEvent(ndk, { kind: 1, content: `ndk ${i}`, tags: [], created_at: now() } as never)
    await withTimeout(ev.sign(signer), STEP_MS, `sign #${i}`)
    if (!verifyEvent(ev.rawEvent() as Event) || ev.pubkey !== pubkey) failures.push(`#${i}: bad signature`)
  } catch (err) {
    failures.push((err as Error).message)
  } finally {
    stop()
  }
}

export async function run(r: Rig, what: string, lanes: number, iteration: (i: number, failures: string[]) => Promise<void>): Promise<void> {
  const failures: string[] = []
  const started = Date.now()
  await inLanes(lanes, ITERATIONS, (i) => iteration(i, failures))
  console.log(`bridge race, ${what}: ${ITERATIONS} iterations on ${lanes} lanes in ${Date.now() - started} ms`)
  expect(failures).toEqual([])
  // No announcing reply went out unconfirmed: the hold never had to give up.
  expect(await metric(r.b.server, 'nsecrelay_bridge_confirm_timeouts_total')).toBe(0)
}
