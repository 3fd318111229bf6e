// One upstream's outbound queue. Bounded in events and bytes (the oldest goes first when full);
// ephemeral events not sent within their time to live are dropped (whoever waited has given up).
// An event may be held until some keys are confirmed on the upstream, for at most a deadline; held
// events do not block the others. Sent events wait for their OK in a map that is itself bounded in
// time: a relay that never answers OK does not make us hold its events forever.
import type { NostrEvent } from '../../relay/relay.ts'

export interface OutItem {
  event: NostrEvent
  json: string
  bytes: number
  /** Date.now() after which it is not worth sending; Infinity for events that are stored. */
  expiresAt: number
  /** Keys that must be confirmed on the upstream first. */
  waitFor?: Set<string>
  /** The hold ends at the latest then. */
  deadline: number
  sentAt: number
  authRetried: boolean
  rateRetries: number
}

export type DropReason = 'full' | 'expired' | 'no-ok'

export interface OutboxOptions {
  maxItems: number
  maxBytes: number
  ttlMs: number
  holdMs: number
  /** A sent event whose OK has not come within this is forgotten. */
  okTimeoutMs: number
  dropped(reason: DropReason, item: OutItem): void
  now?: () => number
}

export interface Outbox {
  push(event: NostrEvent, json: string, waitFor: string[] | undefined): void
  /** Releases held events whose keys are now all confirmed; true when any was released. */
  confirmed(pubkeys: string[]): boolean
  /** Releases held events whose deadline has passed and returns them (they were sent unconfirmed). */
  releaseOverdue(): OutItem[]
  /** The earliest hold deadline, if any event is held. */
  nextDeadline(): number | undefined
  /** The next event to send, skipping expired ones; undefined when none is ready. */
  take(): OutItem | undefined
  /** Puts a taken event back in front (it could not be sent now). */
  unshift(item: OutItem): void
  sent(item: OutItem): void
  /** Queues an acked event again, in front (a resend after AUTH or a rate limit). */
  retry(item: OutItem): void
  /** The sent event with this id, removed from the in-flight map. */
  acked(id: string): OutItem | undefined
  /** After a disconnect: in-flight events go back to the queue (a resend has the same id, so it is harmless). */
  requeueInflight(): void
  readonly ready: number
  readonly held: number
  readonly inflight: number
  readonly bytes: number
}

export function createOutbox(o: OutboxOptions): Outbox {
  const now = o.now ?? Date.now
  let queue: OutItem[] = []
  let head = 0
  let held: OutItem[] = []
  const inflight = new Map<string, OutItem>()
  let bytes = 0
  const count = () => queue.length - head + held.length + inflight.size

  function drop(item: OutItem, reason: DropReason): void {
    bytes -= item.bytes
    o.dropped(reason, item)
  }

  function sweepInflight(t: number): void {
    for (const [id, item] of inflight) {
      if (t - item.sentAt < o.okTimeoutMs) break // insertion order is send order
      inflight.delete(id)
      drop(item, 'no-ok')
    }
  }

  function compact(): void {
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
  }

  /** Makes room by dropping the oldest queued (else held, else in flight) events. */
  function makeRoom(incoming: number): void {
    while (count() > 0 && (count() + 1 > o.maxItems || bytes + incoming > o.maxBytes)) {
      let victim: OutItem | undefined
      if (head < queue.length) victim = queue[head++]
      else if (held.length > 0) victim = held.shift()
      else {
        const first = inflight.entries().next().value
        if (first) {
          inflight.delete(first[0])
          victim = first[1]
        }
      }
      if (!victim) break
      drop(victim, 'full')
    }
    compact()
  }

  return {
    push(event, json, waitFor) {
      const t = now()
      sweepInflight(t)
      const ephemeral = event.kind >= 20000 && event.kind < 30000
      const item: OutItem = {
        event,
        json,
        bytes: json.length,
        expiresAt: ephemeral ? t + o.ttlMs : Infinity,
        deadline: t + o.holdMs,
        sentAt: 0,
        authRetried: false,
        rateRetries: 0,
      }
      makeRoom(item.bytes)
      bytes += item.bytes
      if (waitFor && waitFor.length > 0 && o.holdMs > 0) {
        item.waitFor = new Set(waitFor)
        held.push(item)
      } else queue.push(item)
    },
    confirmed(pubkeys) {
      if (held.length === 0) return false
      let released = false
      held = held.filter((item) => {
        for (const pk of pubkeys) item.waitFor!.delete(pk)
        if (item.waitFor!.size > 0) return true
        item.waitFor = undefined
        queue.push(item)
        released = true
        return false
      })
      return released
    },
    releaseOverdue() {
      const t = now()
      const overdue = held.filter((item) => item.deadline <= t)
      if (overdue.length === 0) return overdue
      held = held.filter((item) => item.deadline > t)
      for (const item of overdue) {
        item.waitFor = undefined
        queue.push(item)
      }
      return overdue
    },
    nextDeadline() {
      let min: number | undefined
      for (const item of held) if (min === undefined || item.deadline < min) min = item.deadline
      return min
    },
    take() {
      const t = now()
      while (head < queue.length) {
        const item = queue[head++]
        if (item.expiresAt > t) {
          compact()
          return item
        }
        drop(item, 'expired')
      }
      compact()
      return undefined
    },
    unshift(item) {
      if (head > 0) queue[--head] = item
      else queue.unshift(item)
    },
    sent(item) {
      item.sentAt = now()
      inflight.delete(item.event.id) // a resend moves to the end
      inflight.set(item.event.id, item)
    },
    retry(item) {
      bytes += item.bytes
      this.unshift(item)
    },
    acked(id) {
      const item = inflight.get(id)
      if (!item) return undefined
      inflight.delete(id)
      bytes -= item.bytes
      return item
    },
    requeueInflight() {
      const back = [...inflight.values()]
      inflight.clear()
      queue = [...back, ...queue.slice(head)]
      head = 0
    },
    get ready() {
      return queue.length - head
    },
    get held() {
      return held.length
    },
    get inflight() {
      return inflight.size
    },
    get bytes() {
      return bytes
    },
  }
}
