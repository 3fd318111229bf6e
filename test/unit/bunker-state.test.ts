// Bunker state against a real LMDB environment: what is put shows at once, and a commit that fails
// leaves memory as it is on disk (before, a failed commit left a key in memory that was neither
// saved nor registered). Token secrets are stored as hashes and seals.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import { afterEach, describe, expect, test } from 'vitest'
import { openBunkerState, type BunkerState, type KeyRecord, type Policy, type Token } from '../../plugin/bunker/state.ts'
import { createTokenSeal, sealLegacyTokens, tokenHash } from '../../plugin/bunker/token-seal.ts'

const seal = createTokenSeal(new Uint8Array(32).fill(7))
const envs: RootDatabase[] = []
const openEnv = (path: string, readOnly = false) => {
  const env = open({ path, readOnly })
  envs.push(env)
  return env
}
afterEach(async () => {
  for (const env of envs.splice(0)) await env.close()
})

const key = (name: string): KeyRecord => ({ name, pubkey: 'ab'.repeat(32), ncryptsec: 'ncryptsec1x', createdAt: 1 })
const policy = (state: BunkerState, name: string): Policy => ({
  id: state.nextId('policy'),
  name,
  description: null,
  createdAt: 1,
  updatedAt: 1,
  expiresAt: null,
  rules: [],
})
function token(state: BunkerState, secret: string, policyId: number): Token {
  const id = state.nextId('token')
  return {
    id,
    keyName: 'k',
    clientName: 'app',
    secretHash: tokenHash(secret),
    sealedSecret: seal.seal(id, secret),
    policyId,
    createdAt: 1,
    updatedAt: 1,
    expiresAt: null,
    redeemedAt: null,
    redeemedBy: null,
  }
}
/** A record LMDB's encoder refuses: the transaction throws after the other writes were made. */
const poison = (state: BunkerState): Policy => ({ ...policy(state, 'poison'), description: Symbol('unencodable') as unknown as string })

/** A state with a policy and a token on disk, and the state reopened from that disk. */
async function seeded(dir: string) {
  const env = openEnv(dir)
  const state = openBunkerState(env, seal)
  const p = policy(state, 'on disk')
  state.put('policy', p)
  state.put('token', token(state, 'old secret', p.id))
  await state.commit()
  return { env, state, policyId: p.id }
}

describe('bunker state', () => {
  test('a failed commit puts every record it touched back as it is on disk', async () => {
    const { state, policyId } = await seeded(mkdtempSync(join(tmpdir(), 'bunker-state-')))
    const oldToken = state.tokenBySecret('old secret')!
    state.put('key', key('k'))
    state.put('policy', { ...state.policies.get(policyId)!, name: 'renamed' })
    state.remove('token', oldToken.id)
    state.put('token', token(state, 'new secret', policyId))
    const user = { id: state.nextId('user'), keyName: 'k', pubkey: 'cd'.repeat(32), description: null, createdAt: 1, lastUsedAt: null, revokedAt: null }
    state.put('user', user)
    state.put('perm', { id: state.nextId('perm'), userId: user.id, method: 'sign_event', kind: null, allowed: true, maxUsage: null, used: 0, expiresAt: null })
    // callers read back what they staged before it is committed
    expect(state.keys.has('k')).toBe(true)
    expect(state.userFor('k', user.pubkey)?.id).toBe(user.id)
    expect(state.permsOf(user.id)).toHaveLength(1)
    expect(state.tokenBySecret('new secret')).toBeDefined()
    expect(state.tokenBySecret('old secret')).toBeUndefined()
    state.put('policy', poison(state))

    await expect(state.commit()).rejects.toThrow()
    expect(state.keys.has('k')).toBe(false)
    expect(state.policies.get(policyId)?.name).toBe('on disk')
    expect([...state.policies.values()].map((p) => p.name)).toEqual(['on disk'])
    expect(state.tokenBySecret('old secret')?.id).toBe(oldToken.id)
    expect(state.tokenBySecret('new secret')).toBeUndefined()
    expect(state.tokens.size).toBe(1)
    expect(state.userFor('k', user.pubkey)).toBeUndefined()
    expect(state.users.size).toBe(0)
    expect(state.permsOf(user.id)).toEqual([])
    expect(state.perms.size).toBe(0)
  })

  test('on an environment opened read-only, a commit fails and memory keeps what is on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunker-state-'))
    const { env } = await seeded(dir)
    await env.close()
    envs.splice(envs.indexOf(env), 1)
    const state = openBunkerState(openEnv(dir, true), seal)
    expect([...state.policies.values()].map((p) => p.name)).toEqual(['on disk'])
    state.put('key', key('k'))
    state.put('policy', policy(state, 'unsaved'))
    await expect(state.commit()).rejects.toThrow()
    expect(state.keys.size).toBe(0)
    expect([...state.policies.values()].map((p) => p.name)).toEqual(['on disk'])
  })

  test('a record a later batch touched keeps that batch’s value when an earlier batch fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunker-state-'))
    const { env, state } = await seeded(dir)
    state.put('key', key('first'))
    state.put('key', key('shared'))
    state.put('policy', poison(state))
    const failing = state.commit()
    state.put('key', { ...key('shared'), createdAt: 2 }) // staged while the first commit runs
    await expect(failing).rejects.toThrow()
    expect(state.keys.has('first')).toBe(false)
    expect(state.keys.get('shared')?.createdAt).toBe(2)
    await state.commit()
    const reopened = openBunkerState(env, seal)
    expect([...reopened.keys.keys()]).toEqual(['shared'])
  })

  test('tokens: stored as hash and seal; a redeemed token loses its seal whoever writes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunker-state-'))
    const { env, state } = await seeded(dir)
    const t = state.tokenBySecret('old secret')!
    expect(seal.open(t)).toBe('old secret')
    // a seal copied onto another token does not open there
    expect(seal.open({ ...t, id: t.id + 1 })).toBeUndefined()
    state.put('token', { ...t, redeemedAt: 5, redeemedBy: 1 })
    expect(state.tokens.get(t.id)?.sealedSecret).toBeNull()
    await state.commit()
    const stored = env.openDB({ name: 'bunker' }).get(['token', t.id]) as Token
    expect(stored).toMatchObject({ secretHash: tokenHash('old secret'), sealedSecret: null, redeemedAt: 5 })
    expect(JSON.stringify(stored)).not.toContain('old secret')
    expect(openBunkerState(env, seal).tokenBySecret('old secret')?.id).toBe(t.id)
  })

  test('tokens stored with a plaintext secret (before hashes) are rewritten as hash and seal at boot', async () => {
    const env = openEnv(mkdtempSync(join(tmpdir(), 'bunker-state-')))
    const db = env.openDB({ name: 'bunker' })
    const legacy = { id: 1, keyName: 'k', clientName: 'app', policyId: 1, createdAt: 1, updatedAt: 1, expiresAt: null, redeemedBy: null }
    await db.put(['token', 1], { ...legacy, secret: 'a'.repeat(64), redeemedAt: null })
    await db.put(['token', 2], { ...legacy, id: 2, secret: 'b'.repeat(64), redeemedAt: 5, redeemedBy: 1 })
    const state = openBunkerState(env, seal)
    expect(state.tokenBySecret('a'.repeat(64))?.id).toBe(1) // found before the rewrite too
    expect(await sealLegacyTokens(state)).toBe(2)
    expect(await sealLegacyTokens(state)).toBe(0)
    const stored = [1, 2].map((id) => db.get(['token', id]) as Token)
    expect(stored[0]).not.toHaveProperty('secret')
    expect(stored[0].secretHash).toBe(tokenHash('a'.repeat(64)))
    expect(seal.open(stored[0])).toBe('a'.repeat(64))
    expect(stored[1]).toMatchObject({ secretHash: tokenHash('b'.repeat(64)), sealedSecret: null })
    expect(JSON.stringify(stored[1])).not.toContain('b'.repeat(64))
    expect(openBunkerState(env, seal).tokenBySecret('b'.repeat(64))?.id).toBe(2)
  })
})
