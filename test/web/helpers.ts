// A bunker server with the approval page on (a known port, so its public URL is right), clients
// that report auth_url, and an HTTP client that keeps the page's session cookie.
import { createServer } from 'node:net'
import { BunkerSigner, type BunkerPointer } from 'nostr-tools/nip46'
import type { SimplePool } from 'nostr-tools/pool'
import { generateSecretKey } from 'nostr-tools/pure'
import { withTimeout } from '../helpers/clients.ts'
import { type AdminClient, type BunkerServer, bunkerSignerAdmin, fastPool, npubToHex, startBunkerServer, STEP_MS } from '../helpers/bunker.ts'

/** A port free a moment ago (the server binds it next; loopback, nothing else races for it here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

export interface PageServer {
  b: BunkerServer
  pool: SimplePool
  admin: AdminClient
  /** http://127.0.0.1:<port> */
  base: string
  close(): Promise<void>
}

export async function startPageServer(bunker: Record<string, unknown> = {}): Promise<PageServer> {
  const port = await freePort()
  const b = await startBunkerServer({
    args: ['--port', String(port), '--public-url', `ws://127.0.0.1:${port}`],
    env: { NSECRELAY_LOG_LEVEL: 'info' }, // the login link is an info line
    config: { bunker: { scryptLogN: 10, aclTimeoutSeconds: 1, ...bunker } },
  })
  const pool = await fastPool()
  const admin = await bunkerSignerAdmin(b, pool)
  return {
    b,
    pool,
    admin,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await admin.close()
      pool.destroy()
      await b.server.stop()
    },
  }
}

let counter = 0
/** A new key without tokens: every client of it is unknown. */
export async function plainKey(s: PageServer): Promise<BunkerPointer & { name: string }> {
  const name = `page${counter++}`
  const { npub } = JSON.parse(await s.admin.call('create_new_key', [name, 'pw']))
  return { name, pubkey: npubToHex(npub), relays: [s.b.server.url], secret: null }
}

/** nostr-tools' BunkerSigner, as an app uses it: `onauth` gets each auth_url. */
export function pageClient(s: PageServer, bp: BunkerPointer, clientSk = generateSecretKey()) {
  const urls: string[] = []
  const waiting: Array<(url: string) => void> = []
  const signer = BunkerSigner.fromBunker(clientSk, bp, {
    pool: s.pool,
    onauth(url) {
      urls.push(url)
      waiting.shift()?.(url)
    },
  })
  return {
    signer,
    urls,
    /** The next auth_url (or one already received and not yet taken). */
    nextUrl(taken = 0): Promise<string> {
      if (urls.length > taken) return Promise.resolve(urls[taken])
      return withTimeout(new Promise<string>((resolve) => waiting.push(resolve)), STEP_MS, 'auth_url')
    },
  }
}

/** The one-time login links the server printed, newest last. */
export function loginLinks(s: PageServer): string[] {
  return s.b.server.stderr.filter((l) => l.includes('APPROVAL_LOGIN_LINK')).map((l) => (JSON.parse(l) as { url: string }).url)
}

/** An HTTP client for the page that keeps its cookie, as a browser would (no redirects followed). */
export function pageHttp() {
  let cookie = ''
  async function request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}) {
    const headers: Record<string, string> = { ...init.headers }
    if (cookie) headers.cookie = cookie
    let body = init.body
    if (init.form) {
      body = new URLSearchParams(init.form).toString()
      headers['content-type'] = 'application/x-www-form-urlencoded'
    }
    const res = await fetch(url, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body, redirect: 'manual' })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  return {
    request,
    get cookie() {
      return cookie
    },
    set cookie(v: string) {
      cookie = v
    },
  }
}

/** The decision form's CSRF token in an approval page. */
export const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''

export const call = <T>(p: Promise<T>, what: string, ms = STEP_MS): Promise<T> => withTimeout(p, ms, what)
