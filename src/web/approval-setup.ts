// Which approval mode runs and at which public HTTP URL the page is reached. The URL is
// bunker.approvalPage.url, else the first public URL with ws -> http and wss -> https. Without one,
// "both" (the default then is acl anyway) falls back to acl questions only, and "page" uses the
// listening URL, which suits a local admin only: each is said in the log.
import type { ApprovalMode } from '../../plugin/bunker/approvals.ts'
import type { Config } from '../config.ts'

export interface ApprovalSetup {
  mode: ApprovalMode
  /** The page's public base URL, no trailing slash; undefined: the listening URL, once known. */
  baseUrl?: string
  /** Said in the log at start, when the setup is not what was asked or plainly implied. */
  note?: { level: 'info' | 'warn'; msg: string }
}

/** ws://h:p/path -> http://h:p/path (no trailing slash); an http(s) URL as it is; else undefined. */
export function httpUrlOf(url: string): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  const protocol = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }[u.protocol]
  if (!protocol) return undefined
  return `${protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`
}

export function approvalSetup(config: Pick<Config, 'publicUrls' | 'bunker'>): ApprovalSetup {
  const configured = config.bunker.approvalPage.url
  const baseUrl = configured ? httpUrlOf(configured) : config.publicUrls.length > 0 ? httpUrlOf(config.publicUrls[0]) : undefined
  const mode = config.bunker.approval ?? (baseUrl ? 'both' : 'acl')
  if (mode === 'acl' || baseUrl) return { mode, baseUrl }
  if (mode === 'both')
    return {
      mode: 'acl',
      note: { level: 'info', msg: 'bunker.approval "both" without a public HTTP URL (--public-url or bunker.approvalPage.url): acl questions only' },
    }
  return { mode, note: { level: 'warn', msg: 'bunker.approval "page" without a public HTTP URL: the approval page links use the listening URL' } }
}
