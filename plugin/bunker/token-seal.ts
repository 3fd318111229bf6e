// Token secrets at rest. A token is found by the SHA-256 of its secret (the secret is 256 random
// bits, so a plain hash cannot be guessed back, and a lookup by hash leaks nothing about the secret
// through timing). The secret itself is kept only while the token is unredeemed, sealed with
// XChaCha20-Poly1305 under a key derived from the bunker's admin secret key, because the admin RPC
// hands it out (get_key_tokens' `<npub>#<secret>`, which LNbits reads after create_new_token).
import { createHash, hkdfSync, randomBytes } from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import type { BunkerState, Token } from './state.ts'

export const tokenHash = (secret: string): string => createHash('sha256').update(secret).digest('hex')

export interface TokenSeal {
  seal(tokenId: number, secret: string): string
  /** The secret, or undefined when it is gone (redeemed) or cannot be opened (another admin key). */
  open(t: Token): string | undefined
}

const utf8 = new TextEncoder()
// Binds a sealed secret to its token: one copied onto another record does not open.
const aadOf = (tokenId: number) => utf8.encode(`nsecrelay token ${tokenId}`)

export function createTokenSeal(adminSk: Uint8Array): TokenSeal {
  const key = new Uint8Array(hkdfSync('sha256', adminSk, new Uint8Array(0), 'nsecrelay token seal v1', 32))
  return {
    seal(tokenId, secret) {
      const nonce = randomBytes(24)
      return Buffer.concat([nonce, xchacha20poly1305(key, nonce, aadOf(tokenId)).encrypt(utf8.encode(secret))]).toString('base64')
    },
    open(t) {
      if (!t.sealedSecret) return undefined
      try {
        const b = Buffer.from(t.sealedSecret, 'base64')
        return new TextDecoder().decode(xchacha20poly1305(key, b.subarray(0, 24), aadOf(t.id)).decrypt(b.subarray(24)))
      } catch {
        return undefined
      }
    },
  }
}

/** Rewrites tokens stored with a plaintext secret (before hashes were kept) as hash + seal. */
export async function sealLegacyTokens(state: BunkerState): Promise<number> {
  let n = 0
  for (const t of state.tokens.values()) {
    const { secret, ...rest } = t as Token & { secret?: string }
    if (secret === undefined) continue
    state.put('token', { ...rest, secretHash: tokenHash(secret), sealedSecret: t.redeemedAt === null ? state.seal.seal(t.id, secret) : null })
    n++
  }
  if (n > 0) await state.commit()
  return n
}
