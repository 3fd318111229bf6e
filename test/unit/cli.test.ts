// The CLI's pure parts and the admin table: every command has help, rules parse, params are
// checked naming the param, the admin UI's legacy string, JSON with comments and `init`'s file,
// and nsecbunkerd's "deny everything" condition as the acl reads it.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { open } from 'lmdb'
import { nip19 } from 'nostr-tools'
import { describe, expect, test } from 'vitest'
import { addUser, decide, grant } from '../../plugin/bunker/acl.ts'
import { ADMIN_TABLE, adminMethod, bindAdminTable, paramProblem } from '../../plugin/bunker/admin-table.ts'
import { openBunkerState } from '../../plugin/bunker/state.ts'
import { createTokenSeal } from '../../plugin/bunker/token-seal.ts'
import { describeQuestion, replyFor } from '../../src/cli/approvals-command.ts'
import { configTemplate } from '../../src/cli/init-command.ts'
import { parseRule } from '../../src/cli/policies-command.ts'
import { program } from '../../src/cli/program.ts'
import { loadConfig } from '../../src/config.ts'
import { legacyForm, parseConnection } from '../../src/connection-file.ts'
import { methodFromNsecbunkerd } from '../../src/import/bunker-target.ts'
import { stripJsonComments } from '../../src/jsonc.ts'

const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)]

describe('command tree', () => {
  test('every command has --help, and admin has one subcommand per admin method', () => {
    const cli = program()
    for (const c of all(cli)) {
      if (c.name() === 'start') continue // the server prints its own usage (src/config.ts)
      expect(c.helpInformation(), c.name()).toMatch(/^Usage: /)
      expect(c.options.some((o) => o.long === '--help') || c.helpOption !== undefined, c.name()).toBe(true)
    }
    const admin = cli.commands.find((c) => c.name() === 'admin')!
    expect(admin.commands.map((c) => c.name()).sort()).toEqual(
      ADMIN_TABLE.filter((m) => !m.open)
        .map((m) => m.name)
        .sort(),
    )
  })

  test('the table binds only to declared handlers, and all of them', () => {
    const h = () => ({ result: 'ok' })
    expect(() => bindAdminTable({ session: { ping: h, connect: h, get_public_key: h, surprise: h } })).toThrow(/session.surprise is not declared/)
    expect(() => bindAdminTable({ session: { ping: h } })).toThrow(/connect has no handler in session/)
    expect(bindAdminTable({ session: { ping: h, connect: h, get_public_key: h } }).size).toBe(3)
  })
})

describe('admin params', () => {
  const spec = (name: string) => adminMethod(name)!
  test('checked in order, naming the param; "" is absent; extra params are ignored', () => {
    expect(paramProblem(spec('create_new_key'), ['a'])).toBe('invalid: create_new_key: passphrase is missing')
    expect(paramProblem(spec('create_new_key'), ['a', 'pw', ''])).toBeUndefined()
    expect(paramProblem(spec('create_new_key'), ['a\u0001', 'pw'])).toBe('invalid: create_new_key: keyName: no control characters')
    expect(paramProblem(spec('create_new_token'), ['k', 'c', '1', '1e3'])).toBe(
      'invalid: create_new_token: durationInHours: must be a positive number of hours',
    )
    expect(paramProblem(spec('delete_policy'), ['01'])).toMatch(/policyId: no policy "01"/)
    expect(paramProblem(spec('get_key_users'), [])).toBeUndefined()
    expect(paramProblem(spec('ping'), ['whatever'])).toBeUndefined()
    expect(paramProblem(spec('connect'), ['a', 'b', 'c', 'd'])).toBeUndefined()
  })

  test('rules on the command line: method[:kind][xN]', () => {
    expect(parseRule('sign_event:1x100')).toEqual({ method: 'sign_event', kind: 1, use_count: 100 })
    expect(parseRule('sign_event:all')).toEqual({ method: 'sign_event', kind: 'all' })
    expect(parseRule('nip44_encryptx3')).toEqual({ method: 'nip44_encrypt', use_count: 3 })
    expect(parseRule('nip04_decrypt')).toEqual({ method: 'nip04_decrypt' })
    for (const bad of ['', 'sign_event:', 'sign_event:1x0', 'Sign', 'sign_event:70000', 'a:b:c']) expect(() => parseRule(bad), bad).toThrow(/rule/)
  })
})

describe('approvals answers', () => {
  const q = { id: '1', keyName: 'alice', remotePubkey: 'ab'.repeat(32), method: 'sign_event', param: JSON.stringify({ kind: 7, content: 'x'.repeat(200) }) }
  test('once, always (this kind), always all, never, nothing', () => {
    expect(replyFor('o', q)).toEqual(['once'])
    expect(replyFor('always', q)).toEqual(['always', '', { kind: '7' }])
    expect(replyFor('Always All', q)).toEqual(['always', '', { kind: 'all' }])
    expect(replyFor('never', q)).toEqual(['never'])
    expect(replyFor('', q)).toBeNull()
    expect(replyFor('perhaps', q)).toBeUndefined()
    expect(replyFor('always', { ...q, method: 'nip44_encrypt', description: 'App' })).toEqual(['always', 'App', {}])
    expect(describeQuestion(q)).toMatch(/^key alice: client npub1\w+ asks to sign_event kind 7: "x{80}\.\.\."$/)
  })
})

describe('connection strings', () => {
  const hex = 'ab'.repeat(32)
  test('legacy form: wss:// hosts only, unencoded, comma separated', () => {
    expect(legacyForm(hex, ['ws://127.0.0.1:7777'])).toBeUndefined()
    expect(legacyForm(hex, ['ws://127.0.0.1:7777', 'wss://relay.example.com', 'wss://r.example.org:444/x'])).toBe(
      `bunker://${nip19.npubEncode(hex)}@relay.example.com,r.example.org:444/x`,
    )
  })
  test('parseConnection takes the current form and names anything else', () => {
    expect(parseConnection(`bunker://${hex}?relay=ws%3A%2F%2F127.0.0.1%3A1&relay=wss%3A%2F%2Fa.b`)).toEqual({
      adminPubkey: hex,
      relays: ['ws://127.0.0.1:1', 'wss://a.b'],
    })
    expect(() => parseConnection(`bunker://${nip19.npubEncode(hex)}@a.b`)).toThrow(/bunker:\/\/<hex pubkey>\?relay=<url>/)
  })
})

describe('config files with comments', () => {
  test('comments go, strings keep their slashes, positions stay', () => {
    const text = '{\n  // a comment "with quotes"\n  "a": "http://x/*y*/", /* block\n over lines */ "b": "\\"//"\n}'
    const out = stripJsonComments(text)
    expect(JSON.parse(out)).toEqual({ a: 'http://x/*y*/', b: '"//' })
    expect(out.length).toBe(text.length)
    expect(out.split('\n').length).toBe(text.split('\n').length)
  })
  test("init's file loads as it is written, with what it was given", () => {
    const dir = mkdtempSync(join(tmpdir(), 'init-'))
    const file = join(dir, 'nsecrelay.jsonc')
    writeFileSync(file, configTemplate({ port: '0', data: join(dir, 'd'), publicUrls: ['wss://relay.example.com'] }))
    const c = loadConfig(['--config', file], {})
    expect(c).toMatchObject({ port: 0, data: join(dir, 'd'), publicUrls: ['wss://relay.example.com'], bunker: { scryptLogN: 16, aclTimeoutSeconds: 10 } })
    writeFileSync(file, '{ "port": 1, }')
    expect(() => loadConfig(['--config', file], {})).toThrow(new RegExp(`config file ${file}: `))
  })
})

describe("nsecbunkerd's conditions in the acl", () => {
  test('a denial of "*" refuses every method, session ones too; nsecbunkerd\'s encrypt and decrypt are NIP-04\'s', async () => {
    const env = open({ path: mkdtempSync(join(tmpdir(), 'acl-')) })
    const state = openBunkerState(env, createTokenSeal(new Uint8Array(32).fill(1)))
    const user = addUser(state, 'k', 'cd'.repeat(32), null, 1)
    grant(state, user.id, { method: 'sign_event', kind: null })
    expect(decide(state, user, 'sign_event', 1, 2).decision).toBe('allow')
    grant(state, user.id, { method: '*', kind: null, allowed: false })
    for (const m of ['connect', 'ping', 'sign_event', 'nip44_encrypt'])
      expect(decide(state, user, m, 1, 2)).toEqual({ decision: 'deny', reason: 'every method is denied for this client' })
    expect(['encrypt', 'decrypt', 'sign_event', 'connect'].map(methodFromNsecbunkerd)).toEqual(['nip04_encrypt', 'nip04_decrypt', 'sign_event', 'connect'])
    await env.close()
  })
})
