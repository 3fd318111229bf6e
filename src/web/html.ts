// HTML for the approval page: a tagged template that escapes every interpolated value unless it is
// itself a fragment made by the template, so nothing a client sends can reach the page as markup.
const SAFE = Symbol('html')

export interface Html {
  readonly [SAFE]: true
  readonly text: string
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c])

const isHtml = (v: unknown): v is Html => typeof v === 'object' && v !== null && SAFE in v

function render(v: unknown): string {
  if (v === undefined || v === null || v === false) return ''
  if (Array.isArray(v)) return v.map(render).join('')
  if (isHtml(v)) return v.text
  return escapeHtml(String(v))
}

/** `html\`<p>${text}</p>\``: strings and numbers are escaped; fragments and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0]
  for (let i = 0; i < values.length; i++) text += render(values[i]) + strings[i + 1]
  return { [SAFE]: true, text }
}

/**
 * Every page: no script or style but our own files from this port, no framing, no form posting
 * elsewhere, nothing cached, no referrer (page URLs carry approval ids).
 */
export const PAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Security-Policy', "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"],
  ['X-Frame-Options', 'DENY'],
  ['Cache-Control', 'no-store'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
]

/** A whole page; `root` is the path the page's own files are served under (`<prefix>/approve`). */
export function document(root: string, title: string, body: Html, script = false): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${root}/static/page.css">
${script ? html`<script src="${root}/static/login.js" defer></script>` : ''}
</head>
<body><main>
${body}
</main></body>
</html>
`.text
}
