// nsecbunkerd importer (issue 11): public API.
//
//   const result = await readNsecbunkerd({ config, db, passphraseFor })   // throws ImportError, writes nothing
//   const summary = await applyNsecbunkerd(result, target)                 // target stages, commits once
//   print(formatNsecbunkerdSummary(summary))
export type { NsecbunkerdTarget, TargetPermission, TargetPolicy, TargetToken, TargetUser } from './apply.ts'
export { applyNsecbunkerd } from './apply.ts'
export type { PassphraseFor, PassphraseRequest } from './keys.ts'
export { decryptNsecbunkerdKey } from './keys.ts'
export type { ImportedKey, NsecbunkerdImport, ReadNsecbunkerdOptions } from './read.ts'
export { readNsecbunkerd } from './read.ts'
export type { ImportedPermission, ImportedPolicy, ImportedRule, ImportedToken, ImportedUser, Skipped } from './records.ts'
export type { NsecbunkerdSummary } from './summary.ts'
export { formatNsecbunkerdSummary, summarise as summariseNsecbunkerd } from './summary.ts'
