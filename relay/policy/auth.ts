// A refusal about who the client is: `auth-required:` until the connection has authenticated (the
// session then sends its challenge), `restricted:` once it has and is still not allowed: asking it
// to authenticate again would change nothing.
import type { ConnectionInfo } from '../hooks.ts'

export const identityRefusal = (conn: ConnectionInfo, reason: string): string => (conn.authed.size > 0 ? `restricted: ${reason}` : `auth-required: ${reason}`)
