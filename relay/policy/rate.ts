// Rate limits as hooks, with their counts kept per connection.
import type { ConnectionInfo, RejectEvent } from '../hooks.ts'

export type Windows = WeakMap<ConnectionInfo, { start: number; used: number }>

/**
 * At most `max` events per `windowMs` from one client connection, in fixed windows: cheap and good
 * enough against a flooding client. Events from plugins and bridges pass. `windows` may outlive the
 * hook (a relay whose settings change keeps its connections' counts).
 */
export function eventsPerWindow(max: number, windowMs: number, what: string, windows: Windows = new WeakMap()): RejectEvent {
  return (_e, origin) => {
    if (origin.type !== 'client') return undefined
    const now = Date.now()
    let w = windows.get(origin.conn)
    if (!w || now - w.start >= windowMs) windows.set(origin.conn, (w = { start: now, used: 0 }))
    return ++w.used > max ? `rate-limited: more than ${max} events ${what}` : undefined
  }
}

export const eventsPerMinute = (perMinute: number): RejectEvent => eventsPerWindow(perMinute, 60_000, 'a minute')
