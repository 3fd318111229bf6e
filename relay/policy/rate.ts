// Rate limits as hooks, with their counts kept per connection.
import type { ConnectionInfo, RejectEvent } from '../hooks.ts'

/**
 * At most `perMinute` events a minute from one client connection, in fixed one-minute windows:
 * cheap and good enough against a flooding client. Events from plugins and bridges pass.
 */
export function eventsPerMinute(perMinute: number): RejectEvent {
  const windows = new WeakMap<ConnectionInfo, { start: number; used: number }>()
  return (_e, origin) => {
    if (origin.type !== 'client') return undefined
    const now = Date.now()
    let w = windows.get(origin.conn)
    if (!w || now - w.start >= 60_000) windows.set(origin.conn, (w = { start: now, used: 0 }))
    return ++w.used > perMinute ? `rate-limited: more than ${perMinute} events a minute` : undefined
  }
}
