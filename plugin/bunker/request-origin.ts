// Where a request to the provider came from, for per-address rate limits. A sink gets the event
// only; the relay's onAccepted hook runs just before the event is dispatched, in the same turn, so
// it notes the source by event id and the provider's handler takes it back.
import type { Hooks, NostrEvent, Origin } from '../../relay/relay.ts'

/** Requests noted but never taken (unreadable ones) are pushed out past this many. */
const KEEP = 64

export interface RequestOrigins {
  /** The source address of an accepted request (read once), or undefined when not known. */
  take(eventId: string): string | undefined
}

const sourceOf = (origin: Origin): string | undefined =>
  origin.type === 'client' ? origin.conn.ip : origin.type === 'bridge' ? `upstream ${origin.upstream}` : undefined

export function watchRequestOrigins(hooks: Pick<Hooks, 'onAccepted'>, kinds: readonly number[], to: string): RequestOrigins {
  const noted = new Map<string, string>()
  const addressed = (e: NostrEvent): boolean => {
    for (const t of e.tags) if (t[0] === 'p') return t[1] === to
    return false
  }
  hooks.onAccepted.push((e, origin) => {
    if (!kinds.includes(e.kind) || !addressed(e)) return
    const source = sourceOf(origin)
    if (source === undefined) return
    if (noted.size >= KEEP) noted.delete(noted.keys().next().value!)
    noted.set(e.id, source)
  })
  return {
    take(id) {
      const source = noted.get(id)
      noted.delete(id)
      return source
    },
  }
}
