// The approval page's HTTP routes on the relay's port (issue 11):
//   GET  /approve                the pending approvals (logged in) or the login page
//   GET  /approve/<id>           one approval and its buttons (logged in) or the login page
//   POST /approve/<id>           a decision: csrf + decision; settles the waiting request at once
//   POST /approve/login          NIP-98 login (form field `auth`, or an Authorization header)
//   GET  /approve/login/<token>  the one-time link from the log: a button that posts to the same URL
//   GET  /approve/static/*       the page's own CSS and script (the CSP allows nothing else)
// Only ids of pending approvals are served; a decided or expired id is a 410, anything else a 404.
import { readFileSync } from 'node:fs'
import { PAGE_DECISIONS, type ApprovalLinks, type PageDecision, type PendingApproval } from '../../plugin/bunker/approval-links.ts'
import type { HttpReply, HttpRouteRequest, PrefixRoute } from '../../relay/server.ts'
import { approvalPage, decidedPage, listPage, loginLinkPage, loginPage, messagePage } from './approval-view.ts'
import { createCsrf } from './csrf.ts'
import { PAGE_HEADERS } from './html.ts'
import { createLoginLinks } from './login-links.ts'
import { createNip98Check } from './nip98.ts'
import { cookieValue, createSessions, type Session } from './sessions.ts'

export const APPROVE_PREFIX = '/approve'
/** A decision or login form is a few hundred bytes; a NIP-98 event in a form field under 2 KiB. */
export const MAX_FORM_BYTES = 8192
const COOKIE = 'nsecrelay_approve'
const ID = /^[0-9a-f]{32}$/
const TOKEN = /^[A-Za-z0-9_-]{22}$/

export interface ApprovalPageSettings {
  loginLinkSeconds: number
  sessionSeconds: number
  maxSessions: number
}

interface PageLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface ApprovalWebDeps {
  links: ApprovalLinks
  /** Admin pubkeys (hex): who may log in with NIP-98. */
  admins: () => string[]
  /** The public http(s) URL of this server, no trailing slash (read per request: it may be known only once listening). */
  baseUrl: () => string
  settings: ApprovalPageSettings
  log: PageLog
  /** Logins go to the bunker's audit log, as decisions do. */
  audit: (entry: Record<string, unknown>) => void
}

export interface ApprovalWeb {
  route: PrefixRoute
  /** Hears of each new pending approval: logs it, and prints a login link when none is live. */
  announce(a: PendingApproval): void
}

const here = new URL('./static/', import.meta.url)
const STATIC: Record<string, HttpReply> = {
  'page.css': { contentType: 'text/css; charset=utf-8', body: readFileSync(new URL('page.css', here), 'utf8') },
  'login.js': { contentType: 'text/javascript; charset=utf-8', body: readFileSync(new URL('login.js', here), 'utf8') },
}
const STATIC_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cache-Control', 'public, max-age=3600'],
  ['X-Content-Type-Options', 'nosniff'],
]

const page = (body: string, status = '200 OK', headers: ReadonlyArray<readonly [string, string]> = []): HttpReply => ({
  status,
  contentType: 'text/html; charset=utf-8',
  body,
  headers: [...PAGE_HEADERS, ...headers],
})

export function createApprovalWeb(deps: ApprovalWebDeps): ApprovalWeb {
  const { links, settings } = deps
  const sessions = createSessions(settings.maxSessions, settings.sessionSeconds * 1000)
  const loginLinks = createLoginLinks(settings.loginLinkSeconds * 1000)
  const csrf = createCsrf()
  const checkNip98 = createNip98Check()

  /** Where the browser sees the page: the public URL's path (behind a proxy) plus /approve. */
  const root = () => `${new URL(deps.baseUrl()).pathname.replace(/\/$/, '')}${APPROVE_PREFIX}`
  const message = (status: string, title: string, text: string) => page(messagePage(root(), title, text), status)
  const gone = (id: string): HttpReply =>
    links.status(id) === 'decided'
      ? message('410 Gone', 'Already decided', 'This request has its answer already.')
      : links.status(id) === 'expired'
        ? message('410 Gone', 'Expired', 'Nobody decided in time: the request was refused.')
        : message('404 Not Found', 'Not found', 'There is no pending request here.')

  const sessionOf = (req: HttpRouteRequest): Session | undefined => sessions.get(cookieValue(req.header('cookie'), COOKIE))

  function loggedIn(by: string, via: string, next: string | undefined): HttpReply {
    const s = sessions.create(by)
    deps.audit({ at: Date.now(), event: 'approval_login', via, by })
    deps.log.info({ via, by: by.slice(0, 12) }, 'APPROVAL_LOGIN')
    const secure = deps.baseUrl().startsWith('https:') ? '; Secure' : ''
    const cookie = `${COOKIE}=${s.id}; Path=${root()}; Max-Age=${settings.sessionSeconds}; HttpOnly; SameSite=Strict${secure}`
    const to = next && ID.test(next) && links.status(next) === 'pending' ? `${root()}/${next}` : root()
    return { status: '303 See Other', contentType: 'text/plain', body: '', headers: [...PAGE_HEADERS, ['Set-Cookie', cookie], ['Location', to]] }
  }

  function nip98Login(req: HttpRouteRequest): HttpReply {
    const form = new URLSearchParams(req.body)
    const next = form.get('next') ?? undefined
    const auth = form.get('auth') || req.header('authorization')
    const url = `${deps.baseUrl()}${APPROVE_PREFIX}/login`
    const r = checkNip98(auth, { url, method: 'POST', admins: deps.admins(), now: Math.floor(Date.now() / 1000) })
    if ('error' in r) {
      deps.log.warn({ reason: r.error }, 'APPROVAL_LOGIN_REFUSED')
      return page(loginPage(root(), url, next && ID.test(next) ? next : undefined, `Login refused: ${r.error}`), '403 Forbidden')
    }
    return loggedIn(r.pubkey, 'nip98', next)
  }

  function linkLogin(req: HttpRouteRequest, token: string): HttpReply {
    if (!TOKEN.test(token) || !loginLinks.live(token))
      return message('410 Gone', 'Link used or expired', 'Each login link works once and for a few minutes. A new one is printed with the next request.')
    if (req.method === 'get') return page(loginLinkPage(root(), token)) // a visit alone (a link preview) uses nothing
    const used = loginLinks.redeem(token)!
    return loggedIn('login-link', 'link', used.next)
  }

  async function decide(req: HttpRouteRequest, session: Session, a: PendingApproval): Promise<HttpReply> {
    const form = new URLSearchParams(req.body)
    if (!csrf.check(session.id, a.id, form.get('csrf') ?? ''))
      return message('403 Forbidden', 'Form expired', 'This form belongs to another session or request: reload the page and decide again.')
    const decision = form.get('decision') as PageDecision
    if (!PAGE_DECISIONS.includes(decision)) return message('400 Bad Request', 'Unknown decision', 'Use one of the page’s buttons.')
    if (!(await links.decide(a.id, decision, session.by))) return gone(a.id)
    deps.log.info({ key: a.keyName, client: a.client.slice(0, 12), method: a.method, kind: a.kind, decision, by: session.by.slice(0, 12) }, 'APPROVAL_DECIDED')
    return page(decidedPage(root(), a, decision))
  }

  function approval(req: HttpRouteRequest, id: string): HttpReply | Promise<HttpReply> {
    const a = ID.test(id) ? links.get(id) : undefined
    if (!a) return gone(id)
    const session = sessionOf(req)
    if (!session) {
      const url = `${deps.baseUrl()}${APPROVE_PREFIX}/login`
      return page(loginPage(root(), url, id), req.method === 'get' ? '200 OK' : '403 Forbidden')
    }
    if (req.method === 'post') return decide(req, session, a)
    return page(approvalPage(root(), a, csrf.token(session.id, id)))
  }

  function handle(req: HttpRouteRequest): HttpReply | Promise<HttpReply> {
    if (req.method !== 'get' && req.method !== 'post') return message('405 Method Not Allowed', 'Method not allowed', 'GET or POST only.')
    const rest = req.path.slice(APPROVE_PREFIX.length)
    if (rest === '') {
      if (sessionOf(req)) return page(listPage(root(), links.list()))
      return page(loginPage(root(), `${deps.baseUrl()}${APPROVE_PREFIX}/login`, undefined))
    }
    if (rest.startsWith('/static/')) {
      const file = STATIC[rest.slice('/static/'.length)]
      return file ? { ...file, headers: STATIC_HEADERS } : message('404 Not Found', 'Not found', 'No such file.')
    }
    if (rest === '/login') {
      if (req.method === 'post') return nip98Login(req)
      return page(loginPage(root(), `${deps.baseUrl()}${APPROVE_PREFIX}/login`, undefined))
    }
    if (rest.startsWith('/login/')) return linkLogin(req, rest.slice('/login/'.length))
    return approval(req, rest.slice(1))
  }

  return {
    route: { prefix: APPROVE_PREFIX, maxBodyBytes: MAX_FORM_BYTES, handle },
    announce(a) {
      deps.log.info({ url: a.url, key: a.keyName, client: a.client.slice(0, 12), method: a.method, kind: a.kind }, 'APPROVAL_PENDING')
      const token = loginLinks.mint(a.id)
      if (token === undefined) return
      // a login secret by design: single use, short-lived, printed only while a request waits
      deps.log.info(
        {
          url: `${deps.baseUrl()}${APPROVE_PREFIX}/login/${token}`,
          expiresInSeconds: settings.loginLinkSeconds,
          note: 'one-time admin login for the approval page',
        },
        'APPROVAL_LOGIN_LINK',
      )
    },
  }
}
