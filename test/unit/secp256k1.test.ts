// Both secp256k1 backends against the BIP-340 test vectors (test/fixtures/bip340-vectors.csv, from
// bitcoin/bips, bip-0340/test-vectors.csv; the 32-byte-message rows) and against each other.
// NSECRELAY_SECP256K1=native (set by .ci/run) makes a missing native addon a failure.
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { loadNative, secp256k1, wasmSecp256k1, type Secp256k1 } from '../../native/secp256k1/index.ts'

const native = loadNative()
const backends: Secp256k1[] = native ? [wasmSecp256k1, native] : [wasmSecp256k1]

const vectors = readFileSync(new URL('../fixtures/bip340-vectors.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, secret, pubkey, , message, signature, result] = line.split(',')
    return { index, secret, pubkey, message, signature, valid: result === 'TRUE' }
  })

const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex')

test('the native addon is built where CI requires it', () => {
  if (process.env.NSECRELAY_SECP256K1 !== 'native') return
  expect(native).toBeDefined()
  expect(secp256k1.backend).toBe('native')
})

describe.each(backends.map((b) => [b.backend, b] as const))('%s backend', (_name, b) => {
  test.each(vectors)('vector $index verifies to $valid', ({ pubkey, message, signature, valid }) => {
    expect(b.verify(bytes(message), pubkey, signature)).toBe(valid)
  })

  test.each(vectors.filter((v) => v.secret))('vector $index: public key, and a fresh signature every backend accepts', (v) => {
    const sk = bytes(v.secret)
    expect(b.publicKey(sk)).toBe(v.pubkey.toLowerCase())
    const sig = b.sign(bytes(v.message), sk)
    expect(sig).toMatch(/^[0-9a-f]{128}$/)
    for (const other of backends) expect(other.verify(bytes(v.message), v.pubkey, sig)).toBe(true)
    expect(b.sign(bytes(v.message), sk)).not.toBe(sig) // auxiliary randomness is fresh
  })

  test('malformed input: a false check, or a throw where there is nothing to return', () => {
    const v = vectors[1]
    expect(b.verify(bytes(v.message), v.pubkey.slice(2), v.signature)).toBe(false)
    expect(b.verify(bytes(v.message), v.pubkey, `zz${v.signature.slice(2)}`)).toBe(false)
    expect(b.verify(bytes(v.message), v.pubkey, `${v.signature}00`)).toBe(false)
    expect(() => b.sign(bytes(v.message), Buffer.alloc(32))).toThrow()
    expect(() => b.publicKey(Buffer.alloc(32, 0xff))).toThrow()
    expect(() => b.sharedX(randomBytes(32), vectors[5].pubkey)).toThrow() // off the curve
    expect(() => b.sharedX(randomBytes(32), 'nothex')).toThrow()
  })

  test('a key overwritten in place signs as the new key', () => {
    const hash = randomBytes(32)
    const sk = randomBytes(32)
    b.sign(hash, sk)
    randomBytes(32).copy(sk)
    expect(b.verify(hash, b.publicKey(sk), b.sign(hash, sk))).toBe(true)
  })

  test('sharedX is symmetric and agrees across backends', () => {
    const a = randomBytes(32)
    const c = randomBytes(32)
    const ab = Buffer.from(b.sharedX(a, b.publicKey(c)))
    expect(Buffer.from(b.sharedX(c, b.publicKey(a)))).toEqual(ab)
    for (const other of backends) expect(Buffer.from(other.sharedX(a, other.publicKey(c)))).toEqual(ab)
  })
})
