// The approval page end to end in a real browser (issue 11): headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core. A nostr-tools BunkerSigner waits on its request and
// hands its auth_url over (params.onauth); the browser opens it, logs in (NIP-07 through a test
// window.nostr that signs in Node, or the one-time link from the log with JavaScript off), decides,
// and the client's request completes. Screenshots at desktop and phone size go to a temp dir.
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { finalizeEvent, generateSecretKey, type EventTemplate, verifyEvent } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { now } from '../helpers/clients.ts'
import { call, loginLinks, pageClient, plainKey, type PageServer, startPageServer } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) console.warn(`approval page browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`)

const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }

let browser: Browser
let shots: string
const contexts: BrowserContext[] = []

async function newPage(opts: { nip07Sk?: Uint8Array; javaScript?: boolean; viewport?: { width: number; height: number } } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, javaScriptEnabled: opts.javaScript ?? true })
  contexts.push(context)
  const sk = opts.nip07Sk
  if (sk) {
    // a NIP-07 extension stand-in: the page's window.nostr.signEvent signs in Node with the admin key
    await context.exposeFunction('nsecrelayTestSign', (t: EventTemplate) => finalizeEvent(t, sk))
    await context.addInitScript(() => {
      const w = window as unknown as { nostr: unknown; nsecrelayTestSign: (t: unknown) => Promise<unknown> }
      w.nostr = { signEvent: (t: unknown) => w.nsecrelayTestSign(t) }
    })
  }
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  return page
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(shots, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.log(`screenshot: ${path}`)
}

/** Nothing wider than the viewport: the page reads on a phone without sideways scrolling. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)

beforeAll(async () => {
  if (!haveChromium) return
  shots = mkdtempSync(join(tmpdir(), 'nsecrelay-approval-shots-'))
  console.log(`approval page screenshots in ${shots}`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
})
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {})
  await browser?.close()
})

describe.skipIf(!haveChromium)('the approval page in Chromium', () => {
  let s: PageServer
  beforeAll(async () => {
    s = await startPageServer()
  })
  afterAll(async () => {
    await s?.close()
  })

  test('a client waits; the admin opens its auth_url, logs in with NIP-07, approves; the request completes', async () => {
    const bp = await plainKey(s)
    const c = pageClient(s, bp)
    const connecting = call(c.signer.connect({ name: 'Test <b>App</b>', url: 'https://app.example/"x' }), 'connect', 20_000)
    const url = await c.nextUrl()

    const page = await newPage({ nip07Sk: s.b.adminSk })
    expect((await page.goto(url))?.status()).toBe(200)
    await page.getByRole('button', { name: 'Log in with your Nostr extension' }).click()
    await page.getByRole('heading', { name: 'A client asks to use a key' }).waitFor()
    expect(new URL(page.url()).pathname).toBe(new URL(url).pathname)
    const text = (await page.locator('main').textContent()) ?? ''
    expect(text).toContain(bp.name)
    expect(text).toContain('Test <b>App</b>') // shown as text
    expect(text).toContain('https://app.example/"x')
    expect(await page.locator('main b').count()).toBe(0) // and never as markup
    expect(text).toMatch(/connect/)
    await shot(page, 'connect-desktop')

    await page.getByRole('button', { name: 'Always', exact: true }).click()
    await page.getByRole('heading', { name: 'Allowed, and always from now on.' }).waitFor()
    await connecting

    // now a sign_event no permission covers: its own auth_url; the session cookie still holds
    const signing = call(c.signer.signEvent({ kind: 1, content: 'Hello from the browser test', tags: [['t', 'nostr']], created_at: now() }), 'sign', 20_000)
    const url2 = await c.nextUrl(1)
    await page.setViewportSize(PHONE)
    await page.goto(url2)
    await page.getByText('Hello from the browser test').waitFor()
    expect(await page.getByRole('button', { name: 'Always for kind 1' }).isVisible()).toBe(true)
    expect(await fitsWidth(page)).toBe(true)
    await shot(page, 'sign-event-phone')
    await page.setViewportSize(DESKTOP)
    await shot(page, 'sign-event-desktop')
    await page.getByRole('button', { name: 'Allow once' }).click()
    await page.getByRole('heading', { name: 'Allowed once.' }).waitFor()
    const signed = await signing
    expect(verifyEvent(signed)).toBe(true)
    expect(signed.content).toBe('Hello from the browser test')
    expect(c.urls).toHaveLength(2) // one auth_url per request
    await c.signer.close()
  })

  test('without JavaScript: the one-time link from the log logs in; deny always refuses now and later', async () => {
    const bp = await plainKey(s)
    const clientSk = generateSecretKey()
    const c = pageClient(s, bp, clientSk)
    const refused = expect(call(c.signer.connect(), 'connect', 20_000)).rejects.toMatch(/not approved/)
    const url = await c.nextUrl()

    const page = await newPage({ javaScript: false, viewport: PHONE })
    await page.goto(url)
    expect(await page.getByRole('button', { name: 'Log in with your Nostr extension' }).isVisible()).toBe(false) // needs JavaScript
    await shot(page, 'login-phone')
    const link = loginLinks(s).at(-1)!
    await page.goto(link)
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    await page.waitForURL(/\/approve(\/[0-9a-f]{32})?$/)
    await page.goto(url)
    await page.getByRole('heading', { name: 'A client asks to use a key' }).waitFor()
    expect(await fitsWidth(page)).toBe(true)
    await shot(page, 'connect-phone')
    await page.getByRole('button', { name: 'Deny always' }).click()
    await page.getByRole('heading', { name: 'Denied, and always from now on.' }).waitFor()
    await refused
    await expect(call(c.signer.connect(), 'connect again')).rejects.toMatch(/revoked/)
    expect(c.urls).toHaveLength(1) // refused at once: nobody was asked again
    // the link was used: it does not log in a second time
    expect((await (await newPage()).goto(link))?.status()).toBe(410)
    await c.signer.close()
  })
})

describe.skipIf(!haveChromium)('an approval nobody decides', () => {
  let s: PageServer
  beforeAll(async () => {
    s = await startPageServer({ approvalPage: { expirySeconds: 2 } })
  })
  afterAll(async () => {
    await s?.close()
  })

  test('expires: the client is refused and the page says so', async () => {
    const bp = await plainKey(s)
    const c = pageClient(s, bp)
    const refused = expect(call(c.signer.connect(), 'connect', 20_000)).rejects.toMatch(/not approved/)
    const url = await c.nextUrl()
    const page = await newPage()
    expect((await page.goto(url))?.status()).toBe(200)
    await refused
    const after = await page.goto(url)
    expect(after?.status()).toBe(410)
    await page.getByRole('heading', { name: 'Expired' }).waitFor()
    await c.signer.close()
  })
})
