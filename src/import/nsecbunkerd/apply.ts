// The writing half of the nsecbunkerd import: hands the verified records to a target, translating
// upstream row ids into the ids the target assigns, and commits once at the end. The target must
// stage everything until commit(): if any put throws, apply rethrows without calling commit(), and
// nothing is written.
import type { ImportedPolicy, ImportedUser } from './records.ts'
import type { NsecbunkerdImport } from './read.ts'
import { type NsecbunkerdSummary, summarise } from './summary.ts'

export type TargetPolicy = Omit<ImportedPolicy, 'sourceId'>
export type TargetUser = Omit<ImportedUser, 'sourceId'>

export interface TargetPermission {
  /** The id putUser returned. */
  userId: number
  method: string
  kind: number | null
  allowed: boolean
}

export interface TargetToken {
  keyName: string
  clientName: string
  /** The plaintext connect secret; the target decides how to keep it (e.g. a hash). */
  secret: string
  createdBy: string
  /** The id putPolicy returned. */
  policyId: number
  createdAt: number
  updatedAt: number
  expiresAt: number | null
  redeemedAt: number | null
  /** The id putUser returned for the user its redemption created. */
  redeemedBy: number | null
}

export interface NsecbunkerdTarget {
  /** Stores the key encrypted under `passphrase` (NIP-49). */
  putKey(name: string, secretKey: Uint8Array, passphrase: string, info: { pubkey: string }): Promise<void> | void
  /** Returns the id the policy gets in the target. */
  putPolicy(policy: TargetPolicy): Promise<number> | number
  /** Returns the id the (key, client) user gets in the target. */
  putUser(user: TargetUser): Promise<number> | number
  putPermission(permission: TargetPermission): Promise<void> | void
  putToken(token: TargetToken): Promise<void> | void
  /** Takes over the bunker's identity key; a target without it keeps its own. */
  putAdminKey?(secretKey: Uint8Array): Promise<void> | void
  /** Makes everything put so far durable, at once. */
  commit(): Promise<void>
}

export async function applyNsecbunkerd(result: NsecbunkerdImport, target: NsecbunkerdTarget): Promise<NsecbunkerdSummary> {
  for (const k of result.keys) await target.putKey(k.name, k.secretKey, k.passphrase, { pubkey: k.pubkey })
  const policyIds = new Map<number, number>()
  for (const { sourceId, ...policy } of result.policies) policyIds.set(sourceId, await target.putPolicy(policy))
  const userIds = new Map<number, number>()
  for (const { sourceId, ...user } of result.users) userIds.set(sourceId, await target.putUser(user))
  for (const p of result.permissions) {
    await target.putPermission({ userId: userIds.get(p.userSourceId)!, method: p.method, kind: p.kind, allowed: p.allowed })
  }
  for (const { sourceId: _, policySourceId, redeemedByUserSourceId, ...t } of result.tokens) {
    const redeemedBy = redeemedByUserSourceId === null ? null : userIds.get(redeemedByUserSourceId)!
    await target.putToken({ ...t, policyId: policyIds.get(policySourceId)!, redeemedBy })
  }
  const adminKeyImported = result.adminKey !== null && target.putAdminKey !== undefined
  if (adminKeyImported) await target.putAdminKey!(result.adminKey!)
  await target.commit()
  return summarise(result, adminKeyImported)
}
