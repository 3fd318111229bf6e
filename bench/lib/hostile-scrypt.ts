// scrypt flood, from the admin itself (a stolen or buggy admin client): create_new_key and
// unlock_key with a wrong passphrase on a locked key, many at once. Each costs one NIP-49 scrypt
// (64 MB and ~250 ms at logN 16); a bounded bunker queues or refuses them past a limit.
import { randomBytes } from 'node:crypto'
import { hexToBytes } from '@noble/hashes/utils.js'
import { record, type HostileContext } from './hostile.ts'
import { reconnecting } from './reconnecting.ts'
import { newIdentity } from './wire-client.ts'

export async function scryptFlood({ setup, ctl, tally }: HostileContext): Promise<void> {
  const { inFlight, maxKeys } = setup.load.hostile.scrypt
  const admin = newIdentity(hexToBytes(setup.adminSk))
  const conn = reconnecting(setup.url, ctl, tally, 'socket', (c) => c.listen([admin]), setup.hostileFrom)
  await conn.ready
  let n = 0
  let created = 0
  const worker = async () => {
    while (!ctl.stopped()) {
      const c = conn.current()
      if (!c) {
        await ctl.sleep(500)
        continue
      }
      const create = n++ % 4 === 0 && created < maxKeys
      const a = create
        ? await c.request(admin, setup.bunkerAdmin, 'create_new_key', [`flood-${randomBytes(6).toString('hex')}`, 'flood passphrase'], { timeoutMs: 60_000 })
        : await c.request(admin, setup.bunkerAdmin, 'unlock_key', [setup.lockedKey, `wrong ${n}`], { timeoutMs: 60_000 })
      const method = create ? 'create_new_key' : 'unlock_key'
      if (a.outcome === 'result') {
        const r = JSON.parse(a.text) as { npub?: string; success?: boolean }
        if (create && r.npub) created++
        tally.count(`${method} ${create ? (r.npub ? 'created' : 'odd result') : r.success ? 'UNLOCKED with a wrong passphrase' : 'refused (wrong passphrase)'}`)
        tally.sample(method, a.ms)
      } else record(tally, method, a)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  conn.close()
}
