// The approval page over plain HTTP (issue 11), against the real server: the auth_url reply on the
// wire (once per request id, before the real reply), login by the one-time link and by NIP-98, the
// decision form (CSRF, single use), the security headers, the bounds and the plain error pages.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import NDK, { NDKNip46Signer, NDKPrivateKeySigner } from '@nostr-dev-kit/ndk'
import type { BunkerPointer } from 'nostr-tools/nip46'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { aclResponder, STEP_MS, userBunkerUri } from '../helpers/bunker.ts'
import { now, rawClient, type RawClient, withTimeout } from '../helpers/clients.ts'
import { call, csrfOf, loginLinks, pageClient, pageHttp, plainKey, type PageServer, startPageServer } from './helpers.ts'

let s: PageServer
beforeAll(async () => {
  s = await startPageServer()
})
afterAll(async () => {
  await s?.close()
})

interface RpcReply {
  id: string
  result: string
  error?: string
}

/** A raw NIP-46 client: sends requests and reads every reply the bunker sends it, in order. */
async function rawSigner(bp: BunkerPointer, clientSk = generateSecretKey()) {
  const c: RawClient = await rawClient(s.b.server.url)
  const key = nip44.getConversationKey(clientSk, bp.pubkey)
  c.send(['REQ', 'r', { kinds: [24133], authors: [bp.pubkey], '#p': [getPublicKey(clientSk)], limit: 0 }])
  await c.next((f) => f[0] === 'EOSE')
  const open = (f: unknown[]) => JSON.parse(nip44.decrypt((f[2] as Event).content, key)) as RpcReply
  const isReply = (f: unknown[]) => f[0] === 'EVENT' && f[1] === 'r'
  return {
    send(id: string, method: string, params: string[] = []) {
      const content = nip44.encrypt(JSON.stringify({ id, method, params }), key)
      c.send(['EVENT', finalizeEvent({ kind: 24133, created_at: now(), tags: [['p', bp.pubkey]], content }, clientSk)])
    },
    /** Every reply so far, decrypted, in arrival order. */
    replies: () => c.frames.filter(isReply).map(open),
    async next(pred: (r: RpcReply) => boolean, timeoutMs = 5000): Promise<RpcReply> {
      return open(await c.next((f) => isReply(f) && pred(open(f)), timeoutMs))
    },
    close: () => c.close(),
  }
}

/** Logs in through the newest one-time link: a GET shows a button, the POST uses the link up. */
async function loginByLink(http: ReturnType<typeof pageHttp>) {
  const link = loginLinks(s).at(-1)!
  const shown = await http.request(link)
  expect(shown.status).toBe(200)
  const used = await http.request(link, { form: {} })
  expect(used.status).toBe(303)
  return { link, used }
}

const APPROVAL_URL = /^http:\/\/127\.0\.0\.1:\d+\/approve\/[0-9a-f]{32}$/

describe('auth_url and the page', () => {
  test('an unknown client’s connect gets one auth_url, then the page’s decision as its reply under the same id', async () => {
    const bp = await plainKey(s)
    const raw = await rawSigner(bp)
    const metadata = JSON.stringify({ name: '<script>alert(1)</script> Evil & Co', url: 'https://example.com/"><img src=x>' })
    raw.send('c1', 'connect', [bp.pubkey, '', '', metadata])
    const auth = await raw.next((r) => r.id === 'c1')
    expect(auth.result).toBe('auth_url')
    expect(auth.error).toMatch(APPROVAL_URL)
    const url = auth.error!

    const http = pageHttp()
    const anonymous = await http.request(url)
    expect(anonymous.status).toBe(200)
    expect(anonymous.text).toContain('Log in')
    expect(anonymous.text).not.toContain('Evil') // nothing about the request before login

    const { used } = await loginByLink(http)
    const cookie = used.headers.get('set-cookie')!
    expect(cookie).toMatch(/^nsecrelay_approve=[A-Za-z0-9_-]{22}; Path=\/approve; Max-Age=3600; HttpOnly; SameSite=Strict$/)
    expect(used.headers.get('location')).toBe(new URL(url).pathname)

    const shown = await http.request(url)
    expect(shown.status).toBe(200)
    expect(shown.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    expect(shown.headers.get('x-frame-options')).toBe('DENY')
    expect(shown.headers.get('cache-control')).toBe('no-store')
    expect(shown.headers.get('access-control-allow-origin')).toBeNull()
    expect(shown.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Evil &amp; Co')
    expect(shown.text).toContain('https://example.com/&quot;&gt;&lt;img src=x&gt;')
    expect(shown.text).not.toMatch(/<script>alert|<img src=x>/)
    expect(shown.text).toContain(bp.name)

    const csrf = csrfOf(shown.text)
    expect((await http.request(url, { form: { csrf: 'x'.repeat(43), decision: 'once' } })).status).toBe(403)
    const stranger = pageHttp() // no session: the login page, nothing decided
    expect((await stranger.request(url, { form: { csrf, decision: 'once' } })).status).toBe(403)
    expect((await http.request(url, { form: { csrf, decision: 'maybe' } })).status).toBe(400)
    expect(raw.replies()).toHaveLength(1) // still waiting

    const decided = await http.request(url, { form: { csrf, decision: 'once' } })
    expect(decided.status).toBe(200)
    expect(decided.text).toContain('Allowed once.')
    const ack = await raw.next((r) => r.id === 'c1' && r.result !== 'auth_url')
    expect(ack).toEqual({ id: 'c1', result: 'ack' })
    expect(raw.replies().map((r) => r.result)).toEqual(['auth_url', 'ack'])

    // single use: the id is no longer pending
    expect((await http.request(url, { form: { csrf, decision: 'always' } })).status).toBe(410)
    expect((await http.request(url)).status).toBe(410)
    raw.close()
  })

  test('requests waiting behind a question get their own auth_url only when they are asked, never twice', async () => {
    const bp = await plainKey(s)
    const raw = await rawSigner(bp)
    const template = (content: string) => JSON.stringify({ kind: 1, content, tags: [], created_at: now() })
    raw.send('a', 'sign_event', [template('first')])
    raw.send('b', 'sign_event', [template('second')])
    const first = await raw.next((r) => r.id === 'a')
    expect(first.result).toBe('auth_url')
    await new Promise((r) => setTimeout(r, 300))
    expect(raw.replies().map((r) => r.id)).toEqual(['a']) // b waits behind a's question, silently

    const http = pageHttp()
    await loginByLink(http) // the last link was used: this question printed a new one
    const page = await http.request(first.error!)
    expect(page.text).toContain('first')
    await http.request(first.error!, { form: { csrf: csrfOf(page.text), decision: 'once' } })
    const signed = await raw.next((r) => r.id === 'a' && r.result !== 'auth_url')
    expect(JSON.parse(signed.result).content).toBe('first')

    const second = await raw.next((r) => r.id === 'b')
    expect(second.result).toBe('auth_url')
    expect(second.error).not.toBe(first.error)
    const page2 = await http.request(second.error!)
    await http.request(second.error!, { form: { csrf: csrfOf(page2.text), decision: 'deny' } })
    const denied = await raw.next((r) => r.id === 'b' && r.result !== 'auth_url')
    expect(denied.error).toMatch(/not authorized/)
    const replies = raw.replies()
    for (const id of ['a', 'b']) expect(replies.filter((r) => r.id === id).map((r) => r.result)[0]).toBe('auth_url')
    expect(replies.filter((r) => r.result === 'auth_url')).toHaveLength(2)
    expect(replies).toHaveLength(4)
    raw.close()
  })

  test('NDK emits "authUrl" and keeps waiting: its connect completes once the page approves', async () => {
    const bp = await plainKey(s)
    const ndk = new NDK({ explicitRelayUrls: [s.b.server.url], enableOutboxModel: false })
    await withTimeout(ndk.connect(), STEP_MS, 'ndk connect')
    const signer = NDKNip46Signer.bunker(ndk, userBunkerUri(bp.pubkey, s.b.server.url), NDKPrivateKeySigner.generate())
    const url = new Promise<string>((resolve) => signer.on('authUrl', resolve))
    const ready = withTimeout(signer.blockUntilReady(), 20_000, 'blockUntilReady')
    const http = pageHttp()
    await loginByNip98(http)
    const approval = await withTimeout(url, STEP_MS, 'authUrl')
    const page = await http.request(approval)
    expect((await http.request(approval, { form: { csrf: csrfOf(page.text), decision: 'always' } })).status).toBe(200)
    expect((await ready).pubkey).toBe(bp.pubkey)
    for (const relay of ndk.pool.relays.values()) relay.disconnect()
  })

  test('whichever answers first wins: an admin’s acl answer voids the page', async () => {
    const responder = aclResponder(s.b, s.pool, () => ['always', 'by acl'])
    const bp = await plainKey(s)
    const c = pageClient(s, bp)
    await call(c.signer.connect(), 'connect')
    expect(c.urls).toHaveLength(1) // the auth_url came, then the admin's answer settled it
    const http = pageHttp()
    const page = await http.request(c.urls[0])
    expect(page.status).toBe(410)
    expect(page.text).toContain('Already decided')
    responder.close()
    await c.signer.close()
  })

  test('always for a kind, and deny always: stored, so later requests are not asked again', async () => {
    const bp = await plainKey(s)
    const c = pageClient(s, bp)
    const http = pageHttp()
    await loginByNip98(http)
    const decideNext = async (taken: number, decision: string) => {
      const url = await c.nextUrl(taken)
      const page = await http.request(url)
      expect(page.status).toBe(200)
      const r = await http.request(url, { form: { csrf: csrfOf(page.text), decision } })
      expect(r.status).toBe(200)
      return page.text
    }
    const connected = call(c.signer.connect(), 'connect')
    await decideNext(0, 'always')
    await connected
    const note = call(c.signer.signEvent({ kind: 1, content: 'note', tags: [['t', 'x']], created_at: now() }), 'kind 1')
    const shown = await decideNext(1, 'always_kind')
    expect(shown).toContain('Always for kind 1')
    expect(shown).toContain('[&quot;t&quot;,&quot;x&quot;]') // the event preview's tags
    expect((await note).content).toBe('note')
    expect((await call(c.signer.signEvent({ kind: 1, content: 'again', tags: [], created_at: now() }), 'kind 1 again')).content).toBe('again')
    const dm = expect(call(c.signer.signEvent({ kind: 4, content: 'dm', tags: [], created_at: now() }), 'kind 4')).rejects.toMatch(/not authorized/)
    await decideNext(2, 'deny_always')
    await dm
    await expect(call(c.signer.signEvent({ kind: 4, content: 'dm2', tags: [], created_at: now() }), 'kind 4 again')).rejects.toMatch(/not allowed/)
    expect(c.urls).toHaveLength(3)
    await c.signer.close()
  })
})

/**
 * A NIP-98 login (kind 27235 for the login URL, POST), as the page's script posts it. The nonce keeps
 * two logins in one second apart: the same event twice is a replay.
 */
function nip98(sk: Uint8Array, url = `${s.base}/approve/login`, method = 'POST', createdAt = now()): string {
  const tags = [
    ['u', url],
    ['method', method],
    ['nonce', Math.random().toString(36)],
  ]
  const e = finalizeEvent({ kind: 27235, created_at: createdAt, tags, content: '' }, sk)
  return Buffer.from(JSON.stringify(e)).toString('base64')
}

async function loginByNip98(http: ReturnType<typeof pageHttp>) {
  const r = await http.request(`${s.base}/approve/login`, { form: { auth: nip98(s.b.adminSk), next: '' } })
  expect(r.status).toBe(303)
  expect(http.cookie).toMatch(/^nsecrelay_approve=/)
}

describe('login', () => {
  test('NIP-98: an admin’s event for this URL logs in, once; any other is refused', async () => {
    const login = `${s.base}/approve/login`
    const refused = async (auth: string, reason: RegExp) => {
      const r = await pageHttp().request(login, { form: { auth } })
      expect(r.status).toBe(403)
      expect(r.text).toMatch(reason)
    }
    await refused(nip98(generateSecretKey()), /not an admin/)
    await refused(nip98(s.b.adminSk, `${s.base}/approve/login/x`), /must name this URL/)
    await refused(nip98(s.b.adminSk, login, 'GET'), /method POST/)
    await refused(nip98(s.b.adminSk, login, 'POST', now() - 120), /too old/)
    await refused('bm90IGpzb24=', /not base64 JSON/)
    const forged = JSON.parse(Buffer.from(nip98(s.b.adminSk), 'base64').toString())
    forged.content = 'changed'
    await refused(Buffer.from(JSON.stringify(forged)).toString('base64'), /does not verify/)

    const auth = nip98(s.b.adminSk)
    const http = pageHttp()
    const ok = await http.request(login, { headers: { authorization: `Nostr ${auth}` }, form: {} })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/approve')
    const list = await http.request(`${s.base}/approve`)
    expect(list.text).toContain('Pending requests')
    await refused(auth, /used already/)
  })

  test('a login link works once', async () => {
    const bp = await plainKey(s)
    const c = pageClient(s, bp)
    void c.signer.connect().catch(() => {})
    await c.nextUrl()
    const link = loginLinks(s).at(-1)!
    const http = pageHttp()
    expect((await http.request(link, { form: {} })).status).toBe(303)
    expect((await pageHttp().request(link, { form: {} })).status).toBe(410)
    expect((await pageHttp().request(link)).status).toBe(410)
    await c.signer.close()
  })
})

describe('bounds and plain errors', () => {
  test('unknown ids are 404, other methods 405, long bodies 413; the page’s own files are served', async () => {
    const http = pageHttp()
    await loginByNip98(http)
    expect((await http.request(`${s.base}/approve/${'0'.repeat(32)}`)).status).toBe(404)
    expect((await http.request(`${s.base}/approve/not-an-id`)).status).toBe(404)
    expect((await http.request(`${s.base}/approve/${'0'.repeat(32)}`, { form: { decision: 'once', csrf: '' } })).status).toBe(404)
    expect((await http.request(`${s.base}/approve`, { method: 'PUT', body: 'x' })).status).toBe(405)
    const big = await http.request(`${s.base}/approve/login`, { body: 'a'.repeat(9000), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(big.status).toBe(413)
    const css = await http.request(`${s.base}/approve/static/page.css`)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toMatch(/^text\/css/)
    const js = await http.request(`${s.base}/approve/static/login.js`)
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect((await http.request(`${s.base}/approve/static/other.js`)).status).toBe(404)
    // the relay's other routes are untouched
    expect((await http.request(`${s.base}/healthz`)).text).toBe('ok\n')
  })
})
