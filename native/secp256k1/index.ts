// secp256k1 for nsecrelay: BIP-340 Schnorr verify/sign and x-only ECDH. Two backends with one
// interface: the addon in this folder, on the system libsecp256k1 (~75 µs a verify or a sign here),
// and tiny-secp256k1, the same library compiled to wasm (~330-420 µs). The addon is used when it is
// built (`npm run build:native`, which needs Debian's libsecp256k1-dev); otherwise the wasm one.
// NSECRELAY_SECP256K1=wasm forces wasm; =native makes a missing addon an error at load.
import { createRequire } from 'node:module'
import * as wasm from 'tiny-secp256k1'

export interface Secp256k1 {
  readonly backend: 'native' | 'wasm'
  /** BIP-340 check of a 32-byte message; false for malformed hex or a pubkey off the curve. */
  verify(hash: Uint8Array, pubkeyHex: string, sigHex: string): boolean
  /** BIP-340 signature (hex) with fresh auxiliary randomness. Throws for an invalid key. */
  sign(hash: Uint8Array, seckey: Uint8Array): string
  /** x-only public key (hex). Throws for an invalid key. */
  publicKey(seckey: Uint8Array): string
  /** x of seckey·P, P the even-y point of the x-only peer: NIP-04's key, NIP-44's HKDF input. */
  sharedX(seckey: Uint8Array, peerHex: string): Uint8Array
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** Decodes hex of exactly `n` bytes, or returns undefined (Buffer.from stops silently at bad digits). */
function bytesOf(text: string, n: number): Buffer | undefined {
  const out = Buffer.from(text, 'hex')
  return out.length === n && text.length === n * 2 ? out : undefined
}

const EVEN = Buffer.from([2]) // the SEC1 prefix of the even-y point

export const wasmSecp256k1: Secp256k1 = {
  backend: 'wasm',
  verify(hash, pubkeyHex, sigHex) {
    const pub = bytesOf(pubkeyHex, 32)
    const sig = bytesOf(sigHex, 64)
    if (!pub || !sig) return false
    try {
      return wasm.verifySchnorr(hash, pub, sig)
    } catch {
      return false // not a curve point
    }
  },
  sign: (hash, seckey) => hex(wasm.signSchnorr(hash, seckey, crypto.getRandomValues(new Uint8Array(32)))),
  publicKey: (seckey) => hex(wasm.xOnlyPointFromScalar(seckey)),
  sharedX(seckey, peerHex) {
    const peer = bytesOf(peerHex, 32)
    const point = peer && wasm.pointMultiply(Buffer.concat([EVEN, peer]), seckey, true) // throws off the curve
    if (!point) throw new TypeError('invalid peer public key')
    return point.subarray(1, 33)
  },
}

interface Addon extends Omit<Secp256k1, 'backend' | 'sign'> {
  keypair(seckey: Uint8Array): Buffer
  signWith(hash: Uint8Array, keypair: Buffer): string
}

function nativeBackend(addon: Addon): Secp256k1 {
  // A keypair costs a point multiplication, half of a sign, and the bunker signs with few keys, so
  // each key object keeps its keypair. The bytes are compared too: a key buffer overwritten in place
  // never signs with what it held before.
  const pairs = new WeakMap<Uint8Array, { seckey: Buffer; pair: Buffer }>()
  return {
    backend: 'native',
    verify: addon.verify,
    sign(hash, seckey) {
      let cached = pairs.get(seckey)
      if (!cached?.seckey.equals(seckey)) {
        cached = { seckey: Buffer.from(seckey), pair: addon.keypair(seckey) }
        pairs.set(seckey, cached)
      }
      return addon.signWith(hash, cached.pair)
    },
    publicKey: addon.publicKey,
    sharedX: addon.sharedX,
  }
}

/** The built addon, or undefined when it has not been built or cannot load here. */
export function loadNative(): Secp256k1 | undefined {
  try {
    return nativeBackend(createRequire(import.meta.url)('./build/Release/secp256k1.node') as Addon)
  } catch {
    return undefined
  }
}

function choose(): Secp256k1 {
  const wanted = process.env.NSECRELAY_SECP256K1
  if (wanted === 'wasm') return wasmSecp256k1
  const native = loadNative()
  if (native) return native
  if (wanted === 'native') throw new Error('NSECRELAY_SECP256K1=native but the addon is not built: apt-get install libsecp256k1-dev && npm run build:native')
  return wasmSecp256k1
}

export const secp256k1: Secp256k1 = choose()
