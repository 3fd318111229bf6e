// What every relay of one process shares: the signature checks (and their worker threads), the
// NIP-40 purge timer, the memory of recent ephemeral ids, and the count of filter values all client
// subscriptions hold (the dispatch tables' memory bound is per process, not per relay). A relay made
// without one gets a runtime of its own.
import { createRecentIds, type RecentIds } from './recent.ts'
import type { EventStore } from './store/store.ts'
import { nowSeconds } from './time.ts'
import { createVerifier, type Verifier } from './verify-pool.ts'

export interface RuntimeOptions {
  /** Worker threads for signature checks; 0 checks everything on the main thread. */
  verifyWorkers?: number
  /** Ephemeral event ids remembered (over all relays) to answer a resent one `duplicate:`. */
  recentEphemeral?: number
  purgeEveryMs?: number
  onError?: (err: unknown, where: string) => void
}

export interface RelayRuntime {
  readonly verifier: Verifier
  readonly recentEphemeral: RecentIds
  /** Filter values held by the client subscriptions of every relay. */
  readonly held: { filterValues: number }
  /** Adds a store to the purge round; returns its removal. */
  purge(store: EventStore): () => void
  readonly ready: Promise<void>
  close(): Promise<void>
}

export function createRuntime(opts: RuntimeOptions = {}): RelayRuntime {
  const onError = opts.onError ?? ((err, where) => console.error(`relay error in ${where}:`, err))
  const verifier = createVerifier(opts.verifyWorkers ?? 0)
  const stores = new Set<EventStore>()
  let running = false
  // One store at a time: a purge round never piles up commits, however many relays there are.
  async function round(): Promise<void> {
    if (running) return
    running = true
    try {
      for (const store of [...stores]) await store.purgeExpired(nowSeconds()).catch((err) => onError(err, 'purge'))
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => void round(), opts.purgeEveryMs ?? 60_000)
  timer.unref()
  return {
    verifier,
    recentEphemeral: createRecentIds(opts.recentEphemeral ?? 100_000),
    held: { filterValues: 0 },
    purge(store) {
      stores.add(store)
      return () => stores.delete(store)
    },
    ready: verifier.ready,
    async close() {
      clearInterval(timer)
      stores.clear()
      await verifier.close()
    },
  }
}
