// The REQs one upstream connection holds for the bunker, and for which keys each is confirmed.
//
// A key is confirmed on an upstream once a REQ opened after its registration and covering it has
// been acknowledged there: by EOSE, or in probe mode by a throwaway event p-tagged to one of its
// keys coming back on that very subscription id. A new key gets a REQ of its own at once; those are
// merged into a new generation of the main subscription make-before-break: the new REQs (always
// under fresh ids, since relays treat a repeated id as close-then-open) are confirmed first, and only
// then are the old ones closed. Refusals (CLOSED) narrow the limits and rebuild; NOTICEs about
// limits narrow them; a REQ unconfirmed for too long counts as refused.
import { narrowLimits, planReqs, type PlannedReq, type UpstreamLimits, type Window } from './plan.ts'

export interface ReqLog {
  warn(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

export interface ReqBookOptions {
  limits: UpstreamLimits
  confirm: 'eose' | 'probe'
  probeIntervalMs: number
  mergeDelayMs: number
  /** A REQ neither confirmed nor refused within this counts as refused. */
  reqTimeoutMs: number
  send(frame: unknown[]): void
  /** Publishes a throwaway kind-24133 event p-tagged to `pubkey` on this connection; returns its id. */
  probe(pubkey: string): string
  /** Newly confirmed keys, each with the ms since it was wanted (or since the connection opened). */
  confirmed(keys: Array<{ pubkey: string; ms: number; cause: 'registration' | 'connect' }>): void
  /** The upstream wants NIP-42 before it serves our REQs: authenticate, then call authed(). */
  needAuth(): void
  /** The upstream keeps refusing our subscriptions: the caller drops the connection and retries later. */
  fail(reason: string): void
  log: ReqLog
  now?: () => number
}

export interface ReqBook {
  want(pubkey: string, kinds: readonly number[]): void
  unwant(pubkey: string): void
  isWanted(pubkey: string): boolean
  /** Whether events of this kind p-tagged to this key are ones we asked for. */
  covers(pubkey: string, kind: number): boolean
  isConfirmed(pubkey: string): boolean
  /** Wanted keys not confirmed on this connection. */
  unconfirmed(): IterableIterator<string>
  connected(window: Window): void
  disconnected(): void
  eose(subId: string): void
  closed(subId: string, reason: string): void
  probeSeen(subId: string, eventId: string): void
  notice(text: string): void
  authed(): void
  /** Connected, every REQ acknowledged and every wanted key covered. */
  readonly healthy: boolean
  /** Connected and the first generation of this connection acknowledged. */
  readonly live: boolean
  readonly openReqs: number
  readonly wanted: number
  close(): void
}

interface Req {
  id: string
  role: 'gen' | 'key'
  gen: number
  pubkeys: string[]
  filters: number
  bytes: number
  eose: boolean
  confirmed: boolean
  timer: NodeJS.Timeout
  probeTimer?: NodeJS.Timeout
  probes?: Set<string>
}

interface KeyState {
  kinds: readonly number[]
  confirmed: boolean
  since: number
  cause: 'registration' | 'connect'
}

/** Consecutive refusals after which the connection is dropped and retried with backoff. */
const MAX_FAILURES = 6

export function createReqBook(o: ReqBookOptions): ReqBook {
  const now = o.now ?? Date.now
  const { limits } = o
  const wants = new Map<string, KeyState>()
  const unconfirmed = new Set<string>()
  const reqs = new Map<string, Req>()
  let serial = 0
  let connected = false
  let genCounter = 0
  let liveGen = 0
  let buildingGen = 0
  let mergeAgain = false
  let awaitingAuth = false
  let failures = 0
  let mergeTimer: NodeJS.Timeout | undefined
  let retryTimer: NodeJS.Timeout | undefined

  function open(role: Req['role'], planned: PlannedReq, gen: number): void {
    const id = `nsr${(++serial).toString(36)}`
    const frame = ['REQ', id, ...planned.filters]
    const req: Req = {
      id,
      role,
      gen,
      pubkeys: planned.pubkeys,
      filters: planned.filters.length,
      bytes: JSON.stringify(frame).length,
      eose: false,
      confirmed: false,
      timer: setTimeout(() => timedOut(id), o.reqTimeoutMs),
    }
    req.timer.unref()
    reqs.set(id, req)
    o.send(frame)
  }

  function forget(r: Req): void {
    clearTimeout(r.timer)
    if (r.probeTimer) clearInterval(r.probeTimer)
    reqs.delete(r.id)
  }

  function closeReq(r: Req): void {
    forget(r)
    o.send(['CLOSE', r.id])
  }

  const reqsOf = (gen: number): Req[] => [...reqs.values()].filter((r) => r.role === 'gen' && r.gen === gen)

  function build(window: Window): void {
    clearTimeout(mergeTimer)
    mergeTimer = undefined
    let plan = planReqs(
      [...wants].map(([pubkey, k]) => ({ pubkey, kinds: k.kinds })),
      limits,
      window,
    )
    const g = ++genCounter
    if (plan.length === 0) {
      for (const r of [...reqs.values()]) closeReq(r)
      liveGen = g
      return
    }
    if (plan.length > limits.maxSubscriptions) {
      o.log.warn({ needed: plan.length, max: limits.maxSubscriptions }, 'bridge: the upstream’s limits cannot cover every key')
      plan = plan.slice(0, limits.maxSubscriptions)
    }
    if (reqs.size + plan.length > limits.maxSubscriptions) {
      // No room to make before breaking: close first, and the keys wait for the new REQs' EOSE.
      o.log.debug({ open: reqs.size, needed: plan.length }, 'bridge: replacing the subscription break-before-make')
      for (const r of [...reqs.values()]) closeReq(r)
      for (const pk of wants.keys()) markUnconfirmed(pk)
    }
    buildingGen = g
    for (const p of plan) open('gen', p, g)
  }

  function mergeNow(): void {
    clearTimeout(mergeTimer)
    mergeTimer = undefined
    if (!connected || awaitingAuth) return
    if (buildingGen !== 0) {
      mergeAgain = true
      return
    }
    build({ limit: 0 })
  }

  function scheduleMerge(): void {
    if (mergeTimer || !connected) return
    mergeTimer = setTimeout(mergeNow, o.mergeDelayMs)
    mergeTimer.unref()
  }

  /** A REQ of its own for a key registered while connected, if the upstream has room for one. */
  function cover(pubkey: string, kinds: readonly number[]): void {
    const reserve = Math.max(1, reqsOf(liveGen).length)
    if (reqs.size + 1 + reserve > limits.maxSubscriptions) return mergeNow()
    open('key', { filters: [{ kinds: [...kinds], '#p': [pubkey], limit: 0 }], pubkeys: [pubkey] }, 0)
    scheduleMerge()
  }

  function markUnconfirmed(pubkey: string): void {
    const k = wants.get(pubkey)
    if (!k?.confirmed) return
    k.confirmed = false
    unconfirmed.add(pubkey)
  }

  function confirmReq(r: Req): void {
    if (r.confirmed) return
    r.confirmed = true
    clearTimeout(r.timer)
    if (r.probeTimer) clearInterval(r.probeTimer)
    r.probes = undefined
    const t = now()
    const newly: Array<{ pubkey: string; ms: number; cause: KeyState['cause'] }> = []
    for (const pubkey of r.pubkeys) {
      const k = wants.get(pubkey)
      if (!k || k.confirmed) continue
      k.confirmed = true
      unconfirmed.delete(pubkey)
      newly.push({ pubkey, ms: t - k.since, cause: k.cause })
    }
    if (r.role === 'gen' && r.gen === buildingGen && reqsOf(buildingGen).every((x) => x.confirmed)) finishGen()
    if (newly.length > 0) o.confirmed(newly)
  }

  /** The new generation is acknowledged: only now are the REQs it replaces closed. */
  function finishGen(): void {
    const g = buildingGen
    buildingGen = 0
    liveGen = g
    failures = 0
    const covered = new Set<string>()
    for (const r of reqsOf(g)) for (const pk of r.pubkeys) covered.add(pk)
    for (const r of [...reqs.values()]) {
      if (r.role === 'gen' && r.gen !== g) closeReq(r)
      else if (r.role === 'key' && r.pubkeys.every((pk) => covered.has(pk))) closeReq(r)
    }
    if (mergeAgain) {
      mergeAgain = false
      mergeNow()
    } else if ([...reqs.values()].some((r) => r.role === 'key')) scheduleMerge()
  }

  function startProbe(r: Req): void {
    r.probes = new Set()
    const fire = () => r.probes?.add(o.probe(r.pubkeys[0]))
    fire()
    r.probeTimer = setInterval(fire, o.probeIntervalMs)
    r.probeTimer.unref()
  }

  /** Keys only `r` covered lose their confirmation. */
  function uncover(r: Req): void {
    for (const pk of r.pubkeys) {
      let still = false
      for (const other of reqs.values())
        if (other.confirmed && other.pubkeys.includes(pk)) {
          still = true
          break
        }
      if (!still) markUnconfirmed(pk)
    }
  }

  function refused(r: Req, reason: string, narrow: boolean): void {
    uncover(r)
    if (r.role === 'gen' && r.gen === buildingGen) {
      for (const sibling of reqsOf(buildingGen)) closeReq(sibling)
      buildingGen = 0
    }
    if (reason.startsWith('auth-required:')) {
      awaitingAuth = true
      return o.needAuth()
    }
    const narrowed = narrow ? narrowLimits(limits, reason, { filters: r.filters, bytes: r.bytes, openSubs: reqs.size }) : undefined
    o.log.warn({ reason: reason.slice(0, 200), narrowed }, 'bridge: upstream refused a subscription')
    if (++failures > MAX_FAILURES) return o.fail(`upstream keeps refusing subscriptions: ${reason.slice(0, 200)}`)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(mergeNow, Math.min(5000, 100 * 2 ** failures))
    retryTimer.unref()
  }

  function timedOut(id: string): void {
    const r = reqs.get(id)
    if (!r) return
    closeReq(r)
    refused(r, 'timeout: not acknowledged', false)
  }

  return {
    want(pubkey, kinds) {
      if (wants.has(pubkey)) return
      wants.set(pubkey, { kinds, confirmed: false, since: now(), cause: 'registration' })
      unconfirmed.add(pubkey)
      if (connected && !awaitingAuth) cover(pubkey, kinds)
    },
    unwant(pubkey) {
      if (!wants.delete(pubkey)) return
      unconfirmed.delete(pubkey)
      for (const r of [...reqs.values()]) if (r.role === 'key' && r.pubkeys.length === 1 && r.pubkeys[0] === pubkey) closeReq(r)
      scheduleMerge()
    },
    isWanted: (pubkey) => wants.has(pubkey),
    covers: (pubkey, kind) => wants.get(pubkey)?.kinds.includes(kind) === true,
    isConfirmed: (pubkey) => wants.get(pubkey)?.confirmed === true,
    unconfirmed: () => unconfirmed.values(),
    connected(window) {
      connected = true
      failures = 0
      const t = now()
      for (const k of wants.values()) {
        k.since = t
        k.cause = 'connect'
      }
      build(window)
    },
    disconnected() {
      connected = false
      for (const r of [...reqs.values()]) forget(r)
      liveGen = 0
      buildingGen = 0
      mergeAgain = false
      awaitingAuth = false
      clearTimeout(mergeTimer)
      clearTimeout(retryTimer)
      mergeTimer = retryTimer = undefined
      for (const pk of wants.keys()) markUnconfirmed(pk)
    },
    eose(subId) {
      const r = reqs.get(subId)
      if (!r || r.eose) return
      r.eose = true
      if (o.confirm === 'eose') confirmReq(r)
      else startProbe(r)
    },
    closed(subId, reason) {
      const r = reqs.get(subId)
      if (!r) return
      forget(r)
      refused(r, reason, !reason.startsWith('auth-required:'))
    },
    probeSeen(subId, eventId) {
      const r = reqs.get(subId)
      if (r?.probes?.has(eventId)) confirmReq(r)
    },
    notice(text) {
      if (!/subscription|filter|too many|too large|too long/i.test(text)) return
      const narrowed = narrowLimits(limits, text, { filters: limits.maxFilters, bytes: limits.maxMessageBytes, openSubs: reqs.size })
      o.log.warn({ notice: text.slice(0, 200), narrowed }, 'bridge: upstream NOTICE about limits')
    },
    authed() {
      if (!awaitingAuth) return
      awaitingAuth = false
      mergeNow()
    },
    get healthy() {
      if (!connected || unconfirmed.size > 0) return false
      for (const r of reqs.values()) if (!r.confirmed) return false
      return true
    },
    get live() {
      return connected && liveGen !== 0
    },
    get openReqs() {
      return reqs.size
    },
    get wanted() {
      return wants.size
    },
    close() {
      this.disconnected()
    },
  }
}
