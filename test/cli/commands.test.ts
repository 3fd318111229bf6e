// The `nsecrelay` command line against a real server started without any admin: the first start
// makes DATA/admin-client.key an admin, and every command below reaches the bunker with it. Each
// command runs as its own child process with stdin piped (no TTY), as a script would run it.
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nip19 } from 'nostr-tools'
import { BunkerSigner, parseBunkerInput } from 'nostr-tools/nip46'
import * as nip04 from 'nostr-tools/nip04'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { Relay } from 'nostr-tools/relay'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectAdmin } from '../../src/cli/rpc-client.ts'
import { readKeyFile } from '../../src/local-admin.ts'
import { fastPool, npubToHex as npubHex, STEP_MS } from '../helpers/bunker.ts'
import { now, withTimeout } from '../helpers/clients.ts'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.ts'
import { cli, cliSession } from './cli.ts'

let server: ServerProcess
let data: string
let config: string
let dir: string
const pool = await fastPool()
/** The options every bunker command gets here. */
const at = () => ['--data', data]

beforeAll(async () => {
  dir = tempDir('nsecrelay-cli-')
  data = join(dir, 'data')
  config = join(dir, 'config.json')
  writeFileSync(config, JSON.stringify({ bunker: { scryptLogN: 10, aclTimeoutSeconds: 5 } }))
  server = await startServerProcess({ data, args: ['--config', config], waitForBunker: true })
})

afterAll(async () => {
  pool.destroy()
  await server?.stop()
})

const json = async (args: string[], input?: string) => {
  const r = await cli([...args, ...at(), '--json'], { input })
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

describe('first start without an admin', () => {
  test('creates DATA/admin-client.key (0600), makes it an admin, says so in one line, and writes connection.txt', async () => {
    const keyFile = join(data, 'admin-client.key')
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const pubkey = getPublicKey(readKeyFile(keyFile))
    const said = server.stderr.filter((l) => l.includes('admin-client.key'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain(nip19.npubEncode(pubkey))
    expect(readFileSync(join(data, 'connection.txt'), 'utf8').split('\n')[0]).toBe(server.bunkerUri)
    const uri = await cli(['uri', ...at()])
    expect(uri.code).toBe(0)
    expect(uri.stdout.trim()).toBe(server.bunkerUri)
    expect(uri.stderr).toMatch(/wss:\/\//) // why there is no admin UI form for a ws:// relay
  })

  test('uri: the legacy form lists wss:// hosts as the nsecbunker admin UI parses them', async () => {
    const r = await json(['uri', '--public-url', 'wss://relay.example.com:8443/bunker', 'wss://b.example.org'])
    const adminHex = (await parseBunkerInput(server.bunkerUri!))!.pubkey
    expect(r.uri).toBe(`bunker://${adminHex}?relay=wss%3A%2F%2Frelay.example.com%3A8443%2Fbunker&relay=wss%3A%2F%2Fb.example.org`)
    // the admin UI's own parsing (login page): regex, split at commas, "wss://" before each
    const [, protocol, npub, relayStr] = /^(.*?):\/\/([^@]*)?(?:@(.*?))?$/.exec(r.legacy)!
    expect(protocol).toBe('bunker')
    expect(nip19.decode(npub).data).toBe(adminHex)
    expect(relayStr.split(',').map((h) => `wss://${h.toLowerCase()}`)).toEqual(['wss://relay.example.com:8443/bunker', 'wss://b.example.org'])
  })
})

describe('keys, policies, tokens and users', () => {
  test('key create reads the passphrase from stdin or a file; key list prints a table or JSON', async () => {
    const alice = await cli(['key', 'create', 'alice', ...at()], { input: 'pw-alice\n' })
    expect(alice.code, alice.stderr).toBe(0)
    expect(alice.stdout).toMatch(/^alice npub1[0-9a-z]{58}\n$/)
    const file = join(dir, 'bob.pass')
    writeFileSync(file, 'pw-bob\n')
    expect((await cli(['key', 'create', 'bob', '--passphrase-file', file, ...at()])).code).toBe(0)
    const list = await cli(['key', 'list', ...at()])
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME +STATE +NPUB +USERS +TOKENS$/)
    expect(list.stdout).toMatch(/alice +unlocked +npub1/)
    const keys = await json(['key', 'list'])
    expect(keys.map((k: { name: string }) => k.name).sort()).toEqual(['alice', 'bob'])
    const none = await cli(['key', 'create', 'carol', ...at()])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no passphrase for key carol on stdin/)
  })

  test('a token the CLI prints connects a real client; user list shows it; user revoke ends it', async () => {
    const policy = await cli(['policy', 'create', 'social', 'sign_event:1x2', 'nip44_encrypt', ...at()])
    expect(policy.stdout.trim()).toMatch(/^policy \d+ social: sign_event:1x2, nip44_encrypt$/)
    expect((await cli(['policy', 'create', 'bad', 'sign_event:99999', ...at()])).stderr).toMatch(/rule sign_event:99999: kinds go up to 65535/)
    const made = await cli(['token', 'create', 'alice', 'my app', 'social', '--hours', '2', ...at()])
    expect(made.code, made.stderr).toBe(0)
    const uri = made.stdout.trim()
    expect(uri).toMatch(/^bunker:\/\/[0-9a-f]{64}\?relay=ws%3A%2F%2F127\.0\.0\.1%3A\d+&secret=[0-9a-f]{64}$/)

    const clientSk = generateSecretKey()
    const signer = BunkerSigner.fromBunker(clientSk, (await parseBunkerInput(uri))!, { pool })
    await withTimeout(signer.connect(), STEP_MS, 'connect')
    const signed = await withTimeout(signer.signEvent({ kind: 1, content: 'hi', tags: [], created_at: now() }), STEP_MS, 'sign')
    expect(signed.pubkey).toBe(nip19.decode(JSON.parse((await cli(['key', 'list', ...at(), '--json'])).stdout)[0].npub).data)

    const tokens = await json(['token', 'list', 'alice'])
    expect(tokens).toMatchObject([{ client_name: 'my app', policy_name: 'social', state: 'redeemed', uri: null }])
    const users = await json(['user', 'list', 'alice'])
    expect(users).toMatchObject([{ pubkey: getPublicKey(clientSk), revokedAt: null }])
    const table = await cli(['user', 'list', 'alice', ...at()])
    expect(table.stdout).toContain(nip19.npubEncode(getPublicKey(clientSk)))
    expect(table.stdout).toMatch(/ (sign_event:1, nip44_encrypt|nip44_encrypt, sign_event:1)\n/)

    expect((await cli(['user', 'revoke', String(users[0].id), ...at()])).stdout).toMatch(/revoked/)
    await expect(withTimeout(signer.signEvent({ kind: 1, content: 'again', tags: [], created_at: now() }), STEP_MS, 'sign')).rejects.toMatch(/revoked/)
    expect((await cli(['token', 'revoke', String(tokens[0].id), ...at()])).code).toBe(0)
    expect(await json(['token', 'list', 'alice'])).toEqual([])
    await signer.close()
  })

  test('approvals answers a real acl question: an unknown client connects once the admin says always', async () => {
    const session = cliSession(['approvals', '--count', '1', ...at()])
    await session.waitFor((l) => l.startsWith('waiting for acl questions'))
    const bob = (await json(['key', 'list'])).find((k: { name: string }) => k.name === 'bob')
    const clientSk = generateSecretKey()
    const signer = BunkerSigner.fromBunker(clientSk, { pubkey: npubHex(bob.npub), relays: [server.url], secret: null }, { pool })
    const connected = withTimeout(signer.connect(), 3 * STEP_MS, 'connect')
    const asked = await session.waitFor((l) => l.includes('asks to connect'))
    expect(asked).toContain('key bob')
    expect(asked).toContain(nip19.npubEncode(getPublicKey(clientSk)))
    session.type('maybe\nalways\n') // not an answer, then one
    await connected
    expect(await session.exited).toBe(0)
    expect(session.lines.join('\n')).toMatch(/not an answer/)
    expect(session.lines).toContain('answered always')
    expect((await json(['user', 'list', 'bob'])).map((u: { pubkey: string }) => u.pubkey)).toEqual([getPublicKey(clientSk)])
    await signer.close()
  })
})

describe('admin <method>', () => {
  test('any method, with arguments, help and checks from the admin table', async () => {
    expect((await json(['admin', 'get_keys'])).map((k: { name: string }) => k.name)).toContain('alice')
    const bad = await cli(['admin', 'create_new_token', 'alice', 'app', '0x1', ...at()])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^nsecrelay: create_new_token: policyId: no policy "0x1"/)
    const missing = await cli(['admin', 'get_key', ...at()])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/missing required argument 'keyName'/)
    const unknown = await cli(['admin', 'frobnicate', ...at()])
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/)
    const help = await cli(['admin', 'create_new_key', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: nsecrelay admin create_new_key \[options\] <keyName>/)
    expect(help.stdout).toMatch(/passphrase: .*never argv/)
  })

  test('the bunker checks params against the table too, naming the param', async () => {
    const sk = readKeyFile(join(data, 'admin-client.key'))
    const conn = await parseBunkerInput(server.bunkerUri!)
    const client = await connectAdmin({ relayUrl: server.url, adminPubkey: conn!.pubkey, sk, timeoutMs: STEP_MS })
    try {
      await expect(client.call('create_new_key', ['x'])).rejects.toThrow(/invalid: create_new_key: passphrase is missing/)
      await expect(client.call('revoke_user', ['abc'])).rejects.toThrow(/invalid: revoke_user: keyUserId: no key user "abc"/)
      await expect(client.call('rename_key_user', ['npub1xyz', 'x'])).rejects.toThrow(/userPubkey: must be 64 lowercase hex/)
      expect(await client.call('ping')).toBe('ok')
    } finally {
      client.close()
    }
  })

  test('create_new_token as the nsecbunker admin UI sends it (NIP-04, kind 24134, a number and a null) is taken', async () => {
    const sk = readKeyFile(join(data, 'admin-client.key'))
    const admin = (await parseBunkerInput(server.bunkerUri!))!.pubkey
    const relay = await Relay.connect(server.url)
    try {
      const reply = new Promise<string>((resolve) => {
        relay.subscribe([{ kinds: [24134], authors: [admin], '#p': [getPublicKey(sk)], limit: 0 }], {
          onevent: (e) => resolve(nip04.decrypt(sk, admin, e.content)),
        })
      })
      expect((await cli(['key', 'create', 'ui', ...at()], { input: 'pw\n' })).code).toBe(0)
      const policy = await cli(['policy', 'create', 'ui', 'sign_event:1', ...at()])
      const policyId = Number(/^policy (\d+) ui/.exec(policy.stdout)![1])
      const body = JSON.stringify({ id: 'ui-1', method: 'create_new_token', params: ['ui', 'from the UI', policyId, null] })
      await relay.publish(finalizeEvent({ kind: 24134, created_at: now(), tags: [['p', admin]], content: nip04.encrypt(sk, admin, body) }, sk))
      expect(JSON.parse(await withTimeout(reply, STEP_MS, 'reply'))).toEqual({ id: 'ui-1', result: '["ok"]' })
      expect((await json(['token', 'list', 'ui'])).map((t: { client_name: string }) => t.client_name)).toEqual(['from the UI'])
    } finally {
      relay.close()
    }
  })
})

describe('after a restart', () => {
  test('keys are locked; key unlock names a wrong passphrase, and unlocks with the right one', async () => {
    expect(await server.stop()).toBe(0)
    server = await startServerProcess({ data, args: ['--config', config], waitForBunker: true })
    expect(server.stderr.join('\n')).not.toContain('admin-client.key') // made once, kept
    expect((await json(['key', 'list'])).find((k: { name: string }) => k.name === 'alice')).toEqual({ name: 'alice' })
    const wrong = join(dir, 'wrong.pass')
    writeFileSync(wrong, 'not it\n')
    const r = await cli(['key', 'unlock', 'alice', '--passphrase-file', wrong, ...at()])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('nsecrelay: unlocking alice: wrong passphrase\n')
    const ok = await cli(['key', 'unlock', 'alice', ...at()], { input: 'pw-alice\n' })
    expect(ok.stdout).toBe('alice unlocked\n')
  })

  test('a second server on the same data directory is refused', async () => {
    await expect(startServerProcess({ data, args: ['--config', config] })).rejects.toThrow(/another nsecrelay \(pid \d+\) is serving/)
  })

  test('errors name the problem and exit non-zero: no connection file, no relay', async () => {
    const empty = await cli(['key', 'list', '--data', tempDir()])
    expect(empty.code).toBe(1)
    expect(empty.stderr).toMatch(/connection\.txt not found: start the relay once/)
    expect(await server.stop()).toBe(0)
    const down = await cli(['key', 'list', ...at(), '--timeout', '5'])
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^nsecrelay: cannot reach the relay at ws:\/\/127\.0\.0\.1:\d+/)
  })
})
