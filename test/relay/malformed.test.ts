// Every malformed frame gets a machine-readable answer and the connection stays usable.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { rawClient, signed, type RawClient } from '../helpers/clients.ts'
import { startServerProcess, type ServerProcess } from '../helpers/server.ts'

let server: ServerProcess
let c: RawClient

beforeAll(async () => {
  server = await startServerProcess()
  c = await rawClient(server.url)
})
afterAll(async () => {
  c?.close()
  await server?.stop()
})

/** Sends text, returns the first answer frame (NOTICE/OK/CLOSED), then proves the socket still works. */
async function answer(text: string): Promise<unknown[]> {
  const start = c.frames.length
  c.sendText(text)
  const f = await c.next((f) => f[0] === 'NOTICE' || f[0] === 'OK' || f[0] === 'CLOSED' || f[0] === 'COUNT', 5000, start)
  const probe = `p${Math.random()}`
  c.send(['REQ', probe, { limit: 0 }])
  await c.next((f) => f[0] === 'EOSE' && f[1] === probe, 5000, start)
  c.send(['CLOSE', probe])
  return f
}

const good = signed()
const mutate = (patch: object) => JSON.stringify(['EVENT', { ...good, ...patch }])

describe('malformed frames', () => {
  test.each([
    ['not JSON', 'hello', 'NOTICE', /^invalid: message is not JSON/],
    ['not an array', '{"a":1}', 'NOTICE', /^invalid:/],
    ['empty array', '[]', 'NOTICE', /^invalid:/],
    ['unknown verb', '["FOO"]', 'NOTICE', /^invalid: unknown message type/],
    ['EVENT wrong arity', '["EVENT"]', 'NOTICE', /^invalid: EVENT takes exactly one event/],
    ['EVENT not an object', '["EVENT", 5]', 'OK', /^invalid: event is not an object/],
    ['REQ without filters', '["REQ","s"]', 'CLOSED', /^invalid: REQ needs at least one filter/],
    ['REQ with a bad sub id', '["REQ", 5, {}]', 'NOTICE', /^invalid: subscription id/],
    ['REQ with a sub id over 64 characters', `["REQ","${'s'.repeat(65)}",{}]`, 'CLOSED', /^invalid: subscription id longer than 64/],
    ['COUNT with a sub id over 64 characters', `["COUNT","${'c'.repeat(65)}",{}]`, 'CLOSED', /^invalid: subscription id longer than 64/],
    ['REQ with a bad filter', '["REQ","s",{"authors":["zz"]}]', 'CLOSED', /^invalid: authors/],
    ['REQ with a filter that is not an object', '["REQ","s",7]', 'CLOSED', /^invalid: filter must be an object/],
    ['CLOSE wrong arity', '["CLOSE"]', 'NOTICE', /^invalid:/],
    ['COUNT with a bad filter', '["COUNT","n",{"kinds":"x"}]', 'CLOSED', /^invalid: kinds/],
  ])('%s', async (_name, text, verb, reason) => {
    const f = await answer(text)
    expect(f[0]).toBe(verb)
    expect(f[f.length - 1]).toMatch(reason)
  })

  test.each([
    ['bad id hex', { id: 'Z'.repeat(64) }, /^invalid: id/],
    ['short pubkey', { pubkey: 'ab' }, /^invalid: pubkey/],
    ['bad sig hex', { sig: 'x' }, /^invalid: sig/],
    ['float created_at', { created_at: 1.5 }, /^invalid: created_at/],
    ['string kind', { kind: '1' }, /^invalid: kind/],
    ['numeric tag item', { tags: [['p', 1]] }, /^invalid: tag items/],
    ['content not a string', { content: 1 }, /^invalid: content/],
    ['id not matching contents', { content: 'changed' }, /^invalid: event id does not match/],
    ['signature of another event', { sig: signed().sig }, /^invalid: signature does not verify/],
  ])('EVENT with %s gets OK false invalid:', async (_name, patch, reason) => {
    const f = await answer(mutate(patch))
    expect(f[0]).toBe('OK')
    expect(f[2]).toBe(false)
    expect(f[3]).toMatch(reason)
  })

  test('an oversized EVENT gets OK false and the connection stays open', async () => {
    const big = signed({ content: 'x'.repeat(600 * 1024) })
    const f = await answer(JSON.stringify(['EVENT', big]))
    expect(f).toEqual(['OK', big.id, false, expect.stringMatching(/^invalid: message larger than/)])
  })

  test('a binary frame gets a NOTICE', async () => {
    const start = c.frames.length
    c.ws.send(Buffer.from([1, 2, 3]))
    const f = await c.next((f) => f[0] === 'NOTICE', 5000, start)
    expect(f[1]).toMatch(/^invalid:/)
  })

  test('too many filters, too many subscriptions', async () => {
    const filters = Array.from({ length: 21 }, () => ({ kinds: [1], limit: 0 }))
    expect(await answer(JSON.stringify(['REQ', 'many', ...filters]))).toEqual(['CLOSED', 'many', expect.stringMatching(/^invalid: too many filters/)])
    const d = await rawClient(server.url)
    for (let i = 0; i < 50; i++) d.send(['REQ', `s${i}`, { limit: 0 }])
    d.send(['REQ', 'one-too-many', { limit: 0 }])
    const f = await d.next((f) => f[0] === 'CLOSED')
    expect(f).toEqual(['CLOSED', 'one-too-many', expect.stringMatching(/^rate-limited: too many open subscriptions/)])
    d.close()
  })

  test('created_at too far in the future', async () => {
    const e = signed({ created_at: Math.floor(Date.now() / 1000) + 3600 })
    const f = await answer(JSON.stringify(['EVENT', e]))
    expect(f[3]).toMatch(/^invalid: created_at is too far in the future/)
  })

  test('after all of it the server still accepts a good event', async () => {
    const e = signed()
    expect(await answer(JSON.stringify(['EVENT', e]))).toEqual(['OK', e.id, true, ''])
    expect(server.proc.exitCode).toBeNull()
  })
})
