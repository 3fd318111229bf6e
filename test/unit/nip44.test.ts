// Our NIP-44 v2 (Node's OpenSSL) held byte for byte to nostr-tools' reference implementation, and
// every malformed payload refused.
import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { chacha20 } from '@noble/ciphers/chacha.js'
import { expand } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { v2 } from 'nostr-tools/nip44'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { secp256k1 } from '../../native/secp256k1/index.ts'
import { conversationKey, decrypt, encrypt, paddedLength } from '../../plugin/bunker/nip44.ts'

const a = generateSecretKey()
const b = generateSecretKey()
const key = conversationKey(secp256k1.sharedX(a, getPublicKey(b)))

// Lengths at every padding boundary, both length prefixes, and multi-byte characters.
const texts = [1, 2, 31, 32, 33, 64, 65, 255, 256, 257, 1000, 65_535, 65_536, 100_000].map((n) => 'x'.repeat(n))
texts.push('é', '😀'.repeat(20), 'a\u0000b', '表ポあA鷗ŒéＢ逍Üßªąñ丂㐀𠀀')

describe('NIP-44 v2', () => {
  test('conversation keys match nostr-tools, from either side', () => {
    expect(Buffer.from(key)).toEqual(Buffer.from(v2.utils.getConversationKey(a, getPublicKey(b))))
    expect(Buffer.from(key)).toEqual(Buffer.from(v2.utils.getConversationKey(b, getPublicKey(a))))
  })

  test('padded lengths match nostr-tools', () => {
    for (let n = 1; n < 70_000; n += 37) expect(paddedLength(n)).toBe(v2.utils.calcPaddedLen(n))
  })

  test.each(texts.map((t) => [Buffer.byteLength(t), t] as const))('%i bytes: same payload as nostr-tools for one nonce, and back', (_n, text) => {
    const nonce = randomBytes(32)
    const ours = encrypt(text, key, nonce)
    expect(ours).toBe(v2.encrypt(text, key, nonce))
    expect(decrypt(ours, key)).toBe(text)
    expect(decrypt(v2.encrypt(text, key), key)).toBe(text)
  })

  test('an empty plaintext is refused', () => {
    expect(() => encrypt('', key)).toThrow('invalid plaintext size')
  })

  test('malformed payloads are refused', () => {
    const good = encrypt('hello', key)
    const bytes = Buffer.from(good, 'base64')
    const flip = (i: number) => {
      const copy = Buffer.from(bytes)
      copy[i] ^= 1
      return copy.toString('base64')
    }
    expect(() => decrypt(`#${good.slice(1)}`, key)).toThrow('unknown encryption version')
    expect(() => decrypt(flip(0), key)).toThrow('unknown encryption version')
    expect(() => decrypt(flip(bytes.length - 1), key)).toThrow('invalid MAC')
    expect(() => decrypt(flip(40), key)).toThrow('invalid MAC')
    expect(() => decrypt(`${good.slice(0, 60)},${good.slice(61)}`, key)).toThrow('invalid base64')
    expect(() => decrypt(good.slice(0, 128), key)).toThrow('invalid payload length')
    expect(() => decrypt(good, randomBytes(32))).toThrow('invalid MAC')
  })

  test('a correctly authenticated payload with a wrong length prefix is refused', () => {
    // Built with the reference primitives: the prefix claims 40 bytes, the padding holds 32.
    const nonce = randomBytes(32)
    const keys = expand(sha256, key, nonce, 76)
    const padded = new Uint8Array(34)
    padded[1] = 40
    const ciphertext = chacha20(keys.subarray(0, 32), keys.subarray(32, 44), padded)
    const tag = hmac(sha256, keys.subarray(44, 76), Buffer.concat([nonce, ciphertext]))
    const payload = Buffer.concat([Buffer.from([2]), nonce, ciphertext, tag]).toString('base64')
    expect(() => decrypt(payload, key)).toThrow('invalid padding')
  })
})
