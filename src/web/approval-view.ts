// The approval page's views: plain HTML forms that work without JavaScript. Every value a client
// sent (names, URLs, event content, tags) goes through html``, which escapes it.
import { nip19 } from 'nostr-tools'
import { clientMetadata, type PageDecision, type PendingApproval } from '../../plugin/bunker/approval-links.ts'
import { document, html, type Html } from './html.ts'

/** What a preview shows of a long event: the page stays small whatever a client signs. */
const MAX_CONTENT_CHARS = 4000
const MAX_TAGS = 40
const MAX_TAG_CHARS = 300

const npub = (hex: string): string => {
  try {
    return nip19.npubEncode(hex)
  } catch {
    return hex
  }
}

const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s)

function inMinutes(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`
}

interface Template {
  kind?: unknown
  content?: unknown
  tags?: unknown
  created_at?: unknown
}

function eventPreview(param: string | undefined): Html {
  let t: Template
  try {
    t = JSON.parse(param ?? '') as Template
  } catch {
    return html`<p class="muted">The event could not be read.</p>`
  }
  const tags = Array.isArray(t.tags) ? (t.tags as unknown[]) : []
  const createdAt = typeof t.created_at === 'number' && Number.isSafeInteger(t.created_at) ? new Date(t.created_at * 1000) : undefined
  return html`<h2>Event to sign</h2>
<div class="card">
<dl>
<dt>Created</dt><dd>${createdAt && !Number.isNaN(createdAt.getTime()) ? createdAt.toISOString() : 'when signed'}</dd>
</dl>
<h3>Content</h3>
<pre>${typeof t.content === 'string' && t.content ? clip(t.content, MAX_CONTENT_CHARS) : '(empty)'}</pre>
<h3>Tags</h3>
${
  tags.length > 0
    ? html`<pre>${tags
        .slice(0, MAX_TAGS)
        .map((tag) => clip(JSON.stringify(tag), MAX_TAG_CHARS))
        .join('\n')}${tags.length > MAX_TAGS ? `\n… ${tags.length - MAX_TAGS} more tags` : ''}</pre>`
    : html`<p class="muted">none</p>`
}
</div>`
}

function details(a: PendingApproval, now: number): Html {
  const meta = clientMetadata(a)
  const peer = /^nip(04|44)_/.test(a.method) && a.param ? a.param : undefined
  return html`<div class="card">
<dl>
<dt>Key</dt><dd>${a.keyName}${a.keyPubkey ? html`<br><code>${npub(a.keyPubkey)}</code>` : ''}</dd>
<dt>Client</dt><dd><code>${npub(a.client)}</code></dd>
${meta.name ? html`<dt>Name</dt><dd>${meta.name}</dd>` : ''}
${meta.url ? html`<dt>URL</dt><dd>${meta.url}</dd>` : ''}
${a.description ? html`<dt>Known as</dt><dd>${clip(a.description, 200)}</dd>` : ''}
<dt>Method</dt><dd><code>${a.method}</code></dd>
${a.kind !== undefined ? html`<dt>Kind</dt><dd>${a.kind}</dd>` : ''}
${peer ? html`<dt>Peer</dt><dd><code>${clip(peer, 100)}</code></dd>` : ''}
${a.perms ? html`<dt>Asks for</dt><dd><code>${clip(a.perms, 500)}</code></dd>` : ''}
<dt>Expires</dt><dd>in ${inMinutes(a.expiresAt - now)}</dd>
</dl>
</div>`
}

const LABELS: Record<PageDecision, (a: PendingApproval) => string> = {
  once: () => 'Allow once',
  always_kind: (a) => `Always for kind ${a.kind}`,
  always: (a) => (a.kind === undefined ? 'Always' : 'Always, any kind'),
  deny: () => 'Deny',
  deny_always: () => 'Deny always',
}

/** The buttons that mean something for this request: "always for this kind" only for sign_event. */
export function decisionsFor(a: PendingApproval): PageDecision[] {
  return a.kind === undefined ? ['once', 'always', 'deny', 'deny_always'] : ['once', 'always_kind', 'always', 'deny', 'deny_always']
}

export function approvalPage(root: string, a: PendingApproval, csrf: string, now = Date.now()): string {
  const button = (d: PageDecision) =>
    html`<button type="submit" name="decision" value="${d}" class="${d.startsWith('deny') ? 'deny' : 'allow'}">${LABELS[d](a)}</button>`
  const decisions = decisionsFor(a)
  return document(
    root,
    'Approve a request?',
    html`<h1>A client asks to use a key</h1>
${details(a, now)}
${a.method === 'sign_event' ? eventPreview(a.param) : ''}
<form method="post" action="${root}/${a.id}">
<input type="hidden" name="csrf" value="${csrf}">
<div class="decisions">${decisions.filter((d) => !d.startsWith('deny')).map(button)}</div>
<div class="decisions">${decisions.filter((d) => d.startsWith('deny')).map(button)}</div>
</form>
<p class="muted">The “Always” and “Deny always” answers are remembered for this client and key.</p>
<p class="muted"><a href="${root}">All pending requests</a></p>`,
  )
}

export function loginPage(root: string, loginUrl: string, next: string | undefined, error?: string): string {
  return document(
    root,
    'Log in to approve',
    html`<h1>Log in to approve requests</h1>
${error ? html`<p class="error">${error}</p>` : ''}
<div class="card">
<p>A client is waiting for an admin of this bunker. To log in, open the one-time login link the relay
printed in its log (<code>APPROVAL_LOGIN_LINK</code>), or use a Nostr extension (NIP-07) holding an admin key.</p>
<form id="nip98" method="post" action="${root}/login" data-url="${loginUrl}" hidden>
<input type="hidden" name="auth" value="">
<input type="hidden" name="next" value="${next ?? ''}">
<div class="decisions"><button type="submit" class="allow">Log in with your Nostr extension</button></div>
<p id="nip98-status" class="muted" role="status"></p>
</form>
</div>
<p class="muted"><a href="">Logged in already? Reload this page.</a></p>`,
    true,
  )
}

export function loginLinkPage(root: string, token: string): string {
  return document(
    root,
    'Log in',
    html`<h1>Log in with a one-time link</h1>
<div class="card">
<p>This link works once and expires soon.</p>
<form method="post" action="${root}/login/${token}">
<div class="decisions"><button type="submit" class="allow">Log in</button></div>
</form>
</div>`,
  )
}

export function listPage(root: string, pending: PendingApproval[], now = Date.now()): string {
  const items = pending.map(
    (a) =>
      html`<li><a href="${root}/${a.id}"><code>${a.method}</code>${a.kind !== undefined ? ` kind ${a.kind}` : ''}</a> for ${a.keyName}
from <code>${npub(a.client).slice(0, 20)}…</code> <span class="muted">(expires in ${inMinutes(a.expiresAt - now)})</span></li>`,
  )
  return document(
    root,
    'Pending requests',
    html`<h1>Pending requests</h1>
<div class="card">${items.length > 0 ? html`<ul class="pending">${items}</ul>` : html`<p>Nothing is waiting for approval.</p>`}</div>`,
  )
}

const DONE: Record<PageDecision, string> = {
  once: 'Allowed once.',
  always_kind: 'Allowed, and always for this kind from now on.',
  always: 'Allowed, and always from now on.',
  deny: 'Denied.',
  deny_always: 'Denied, and always from now on.',
}

export function decidedPage(root: string, a: PendingApproval, decision: PageDecision): string {
  return document(
    root,
    'Decided',
    html`<h1>${DONE[decision]}</h1>
<p>The client’s request (<code>${a.method}</code>${a.kind !== undefined ? ` kind ${a.kind}` : ''}, key ${a.keyName}) has its answer.</p>
<p class="muted"><a href="${root}">Other pending requests</a></p>`,
  )
}

/** 404, 410, 403, 400: one plain page. */
export function messagePage(root: string, title: string, text: string): string {
  return document(root, title, html`<h1>${title}</h1><p>${text}</p><p class="muted"><a href="${root}">Pending requests</a></p>`)
}
