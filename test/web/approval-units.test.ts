// The approval page's pure parts: escaping, the bounded sessions and login links, CSRF tokens, the
// mode and URL setup, and the race between an admin's acl answer and the page over one question.
import { describe, expect, test } from 'vitest'
import { createApprovalLinks, type PendingApproval } from '../../plugin/bunker/approval-links.ts'
import { type AclAnswer, createApprovals } from '../../plugin/bunker/approvals.ts'
import type { Channel } from '../../plugin/bunker/channel.ts'
import { configSchema } from '../../src/config.ts'
import { approvalSetup, httpUrlOf } from '../../src/web/approval-setup.ts'
import { createCsrf } from '../../src/web/csrf.ts'
import { html } from '../../src/web/html.ts'
import { createLoginLinks } from '../../src/web/login-links.ts'
import { cookieValue, createSessions } from '../../src/web/sessions.ts'

describe('html``', () => {
  test('escapes every value, not the fragments it made itself', () => {
    const evil = `<script>"x" & 'y'</script>`
    const inner = html`<b>${evil}</b>`
    expect(html`<p title="${evil}">${inner}${[inner, 1]}${undefined}${false}</p>`.text).toBe(
      '<p title="&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;">' +
        '<b>&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;</b>'.repeat(2) +
        '1</p>',
    )
    // an object that merely looks like a fragment (parsed JSON, say) is escaped like any value
    expect(html`${JSON.parse('{"text":"<i>"}')}`.text).toBe('[object Object]')
  })
})

describe('sessions, login links, CSRF', () => {
  test('sessions: bounded in number (the oldest goes) and in life', () => {
    const s = createSessions(2, 1000)
    const a = s.create('a', 0)
    const b = s.create('b', 0)
    const c = s.create('c', 10)
    expect(s.size).toBe(2)
    expect(s.get(a.id, 10)).toBeUndefined()
    expect(s.get(b.id, 10)?.by).toBe('b')
    expect(s.get(c.id, 1009)?.by).toBe('c')
    expect(s.get(c.id, 1010)).toBeUndefined()
    expect(s.get(undefined)).toBeUndefined()
    expect(cookieValue(`x=1; nsecrelay_approve=${b.id}; y=2`, 'nsecrelay_approve')).toBe(b.id)
  })

  test('login links: one live at a time, single use, short-lived', () => {
    const l = createLoginLinks(1000)
    const t = l.mint('next-id', 0)!
    expect(l.mint('other', 500)).toBeUndefined() // one is live: nothing new printed
    expect(l.live(t, 500)).toBe(true)
    expect(l.redeem('x'.repeat(22), 500)).toBeUndefined()
    expect(l.redeem(t, 500)).toEqual({ next: 'next-id' })
    expect(l.redeem(t, 501)).toBeUndefined()
    const t2 = l.mint(undefined, 600)!
    expect(t2).not.toBe(t)
    expect(l.redeem(t2, 1600)).toBeUndefined() // expired
    expect(l.mint(undefined, 1600)).toBeDefined()
  })

  test('a CSRF token holds for its session and approval only', () => {
    const csrf = createCsrf()
    const t = csrf.token('s1', 'a1')
    expect(csrf.check('s1', 'a1', t)).toBe(true)
    expect(csrf.check('s2', 'a1', t)).toBe(false)
    expect(csrf.check('s1', 'a2', t)).toBe(false)
    expect(csrf.check('s1', 'a1', '')).toBe(false)
    expect(createCsrf().check('s1', 'a1', t)).toBe(false) // another process start
  })
})

describe('mode and public URL', () => {
  const setup = (input: Record<string, unknown>) => approvalSetup(configSchema.parse(input))

  test('ws -> http, wss -> https; the path is kept, a trailing slash is not', () => {
    expect(httpUrlOf('ws://127.0.0.1:7777')).toBe('http://127.0.0.1:7777')
    expect(httpUrlOf('wss://relay.example/nostr/')).toBe('https://relay.example/nostr')
    expect(httpUrlOf('ftp://x')).toBeUndefined()
  })

  test('both when a public URL is known, else acl; "both" without one falls back to acl and says so', () => {
    expect(setup({})).toEqual({ mode: 'acl', baseUrl: undefined })
    expect(setup({ publicUrls: ['wss://relay.example'] })).toEqual({ mode: 'both', baseUrl: 'https://relay.example' })
    expect(setup({ publicUrls: ['wss://relay.example'], bunker: { approvalPage: { url: 'https://page.example/' } } }).baseUrl).toBe('https://page.example')
    expect(setup({ publicUrls: ['wss://relay.example'], bunker: { approval: 'acl' } }).mode).toBe('acl')
    const both = setup({ bunker: { approval: 'both' } })
    expect(both.mode).toBe('acl')
    expect(both.note?.msg).toMatch(/acl questions only/)
    const page = setup({ bunker: { approval: 'page' } })
    expect(page).toMatchObject({ mode: 'page', note: { level: 'warn' } })
    expect(page.baseUrl).toBeUndefined()
    expect(() => configSchema.parse({ bunker: { approvalPage: { url: 'ws://x' } } })).toThrow()
  })
})

describe('one question, two ways to answer it', () => {
  function rig() {
    const sent: string[] = []
    const channel = { send: async (_i: unknown, _to: string, _k: number, _s: unknown, json: string) => void sent.push(json) } as unknown as Channel
    const opened: PendingApproval[] = []
    const audit: Array<Record<string, unknown>> = []
    const links = createApprovalLinks({
      baseUrl: () => 'https://b.example',
      expiryMs: 60_000,
      rememberFinished: 10,
      keyPubkey: () => undefined,
      audit: (e) => audit.push(e),
      commit: async () => {},
      announce: (a) => opened.push(a),
    })
    const approvals = createApprovals({
      channel,
      admin: () => ({ name: 'admin', sk: new Uint8Array(32), pubkey: 'a'.repeat(64) }),
      admins: () => ['b'.repeat(64)],
      schemeOf: () => 'nip44',
      timeoutMs: 10,
      maxPending: 10,
      mode: 'both',
      links,
    })
    const q = { keyName: 'k', remotePubkey: 'c'.repeat(64), method: 'sign_event', kind: 1 }
    const aclId = () => JSON.parse(sent[0]).id as string
    return { approvals, links, opened, audit, q, aclId }
  }

  test('the page first: the acl answer that comes later settles nothing', async () => {
    const { approvals, links, opened, audit, q, aclId } = rig()
    const urls: string[] = []
    const answers: AclAnswer[] = []
    const asked = approvals.ask(
      q,
      (a) => answers.push(a),
      (u) => urls.push(u),
    )
    expect(urls).toEqual([opened[0].url])
    expect(opened[0].url).toMatch(/^https:\/\/b\.example\/approve\/[0-9a-f]{32}$/)
    expect(await links.decide(opened[0].id, 'always_kind', 'admin-x')).toBe(true)
    expect(await asked).toEqual({ asked: 1 })
    expect(answers).toEqual([{ answer: 'always', description: undefined, kind: 1 }])
    expect(approvals.settle({ id: aclId(), result: '["never"]' })).toBe(false)
    expect(await links.decide(opened[0].id, 'deny', 'admin-x')).toBe(false) // single use
    expect(links.status(opened[0].id)).toBe('decided')
    expect(audit).toEqual([expect.objectContaining({ event: 'approval_decided', decision: 'always_kind', by: 'admin-x', method: 'sign_event', kind: 1 })])
  })

  test('the acl answer first: the page is void', async () => {
    const { approvals, links, opened, q, aclId } = rig()
    const asked = approvals.ask(q, (a) => a.answer)
    expect(approvals.settle({ id: aclId(), result: '["once"]' })).toBe(true)
    expect(await asked).toEqual({ asked: 'once' })
    expect(links.get(opened[0].id)).toBeUndefined()
    expect(await links.decide(opened[0].id, 'once', 'admin-x')).toBe(false)
    expect(links.status(opened[0].id)).toBe('decided')
    expect(links.status('0'.repeat(32))).toBe('unknown')
  })

  test('nobody answers: the page expires with the question', async () => {
    const sent: string[] = []
    const links = createApprovalLinks({
      baseUrl: () => 'http://x',
      expiryMs: 20,
      rememberFinished: 10,
      keyPubkey: () => undefined,
      audit: () => {},
      commit: async () => {},
    })
    const approvals = createApprovals({
      channel: { send: async (...a: unknown[]) => void sent.push(String(a[4])) } as unknown as Channel,
      admin: () => ({ name: 'admin', sk: new Uint8Array(32), pubkey: 'a'.repeat(64) }),
      admins: () => [],
      schemeOf: () => 'nip44',
      timeoutMs: 10_000, // the page's expiry replaces it
      maxPending: 10,
      mode: 'page',
      links,
    })
    let url = ''
    const r = await approvals.ask(
      { keyName: 'k', remotePubkey: 'c'.repeat(64), method: 'connect' },
      (a) => a.answer,
      (u) => (url = u),
    )
    expect(r).toEqual({ asked: 'timeout' })
    expect(sent).toEqual([]) // page mode: no acl question to the admins
    expect(links.status(url.slice(-32))).toBe('expired')
  })
})
