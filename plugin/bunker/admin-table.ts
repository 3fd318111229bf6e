// The admin RPC as one declared table: every method's name, summary, positional params (each a zod
// check of the string as sent) and the handler group it lives in. The bunker dispatches through it
// and the CLI builds `nsecrelay admin <method>` (arguments, help, validation) from it, so a method
// is described once. Handlers stay in admin-keys.ts, admin-access.ts and account-names.ts; this
// file imports none of them, so the CLI can read it without the bunker's runtime.
//
// nsecbunkerd's wire rules hold: params are strings (rpc.ts turns numbers into strings, null into
// ""), extra params are ignored, "" is an absent param, and result shapes are the handlers' own.
import { z } from 'zod'

/** Where the handler of a method lives: the object of that group, under the method's name. */
export type HandlerGroup = 'session' | 'keys' | 'access' | 'names' | 'accounts' | 'nostrconnect'

export interface ParamSpec {
  name: string
  help: string
  /** Checks the param as sent (a string); runs only when the param is present. */
  check: z.ZodType<string, string>
  optional?: boolean
  /** Passphrases and secret keys: the CLI reads them from a prompt, stdin or a file, never argv. */
  secret?: boolean
}

export interface AdminMethodSpec {
  name: string
  summary: string
  params: readonly ParamSpec[]
  handler: HandlerGroup
  /** What a success answers, for help text. */
  result: string
  /** Anyone may call it, not only admins (create_account). */
  open?: boolean
  /** Params are not checked: NIP-46 session calls that admin clients send as they would to a signer. */
  anyParams?: boolean
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f]/
const text = (max: number) => z.string().max(max, `at most ${max} characters`)
const keyName = text(128).refine((s) => !CONTROL.test(s), 'no control characters')
/** A record id: plain decimal digits ("0x1", "1e0", " 1" are not ids). */
const recordId = (what: string) =>
  z.string().superRefine((v, ctx) => {
    if (!/^[1-9]\d{0,14}$/.test(v)) ctx.addIssue({ code: 'custom', message: `no ${what} ${JSON.stringify(v.slice(0, 24))} (ids are plain decimal numbers)` })
  })
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a pubkey)')
const hours = z.string().regex(/^\d{1,10}(\.\d{1,10})?$/, 'must be a positive number of hours')

const p = (name: string, help: string, check: z.ZodType<string, string>, more: Partial<ParamSpec> = {}): ParamSpec => ({ name, help, check, ...more })
const KEY = p('keyName', 'the key name', keyName)
const KEY_OPT = p('keyName', 'the key name', keyName, { optional: true })
const PASSPHRASE = p('passphrase', "the key's passphrase (NIP-49 encrypts the key under it)", text(4096), { secret: true })

export const ADMIN_TABLE: readonly AdminMethodSpec[] = [
  { name: 'ping', summary: 'check that the bunker answers', params: [], handler: 'session', result: '"ok"' },
  {
    name: 'connect',
    summary: 'NIP-46 connect, for admin clients that open the channel like a signer',
    params: [],
    handler: 'session',
    result: '"ack"',
    anyParams: true,
  },
  { name: 'get_public_key', summary: "the bunker's admin pubkey", params: [], handler: 'session', result: 'hex pubkey' },
  {
    name: 'create_new_key',
    summary: 'create a key (or import one) and unlock it',
    params: [KEY, PASSPHRASE, p('nsec', 'a secret key to import (nsec or hex); generated when absent', text(200), { optional: true, secret: true })],
    handler: 'keys',
    result: '{"npub"}',
  },
  {
    name: 'unlock_key',
    summary: 'unlock a key with its passphrase',
    params: [KEY, PASSPHRASE],
    handler: 'keys',
    result: '{"success":true} or {"success":false,"error"}',
  },
  { name: 'get_keys', summary: 'list keys', params: [], handler: 'keys', result: '[{"name","npub","userCount","tokenCount"}], locked keys as {"name"}' },
  { name: 'get_key', summary: 'one key', params: [KEY], handler: 'keys', result: '{"name","npub","locked","createdAt","userCount","tokenCount"}' },
  { name: 'delete_key', summary: 'delete a key with its users, tokens and names', params: [KEY], handler: 'keys', result: '["ok"]' },
  {
    name: 'create_new_policy',
    summary: 'create a policy (rules tokens hand out)',
    params: [p('policy', 'JSON {"name","description"?,"expires_at"?,"rules":[{"method","kind"?,"use_count"?}]}', text(65_536))],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'get_policies',
    summary: 'list policies',
    params: [],
    handler: 'access',
    result: '[{"id","name","description","created_at","updated_at","expires_at","rules":[...]}]',
  },
  { name: 'delete_policy', summary: 'delete a policy', params: [p('policyId', 'the policy id', recordId('policy'))], handler: 'access', result: '["ok"]' },
  {
    name: 'create_new_token',
    summary: 'create a connect token for a key under a policy',
    params: [
      KEY,
      p('clientName', 'a name for the client that will use it', text(256)),
      p('policyId', 'the policy id', recordId('policy')),
      p('durationInHours', 'hours until it expires; never when absent', hours, { optional: true }),
    ],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'get_key_tokens',
    summary: "list a key's tokens",
    params: [KEY_OPT],
    handler: 'access',
    result: '[{"id","key_name","client_name","token":"<npub>#<secret>",...}]',
  },
  {
    name: 'revoke_token',
    summary: 'delete a token; the client that redeemed it is revoked',
    params: [p('tokenId', 'the token id', recordId('token'))],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'validate_token',
    summary: 'check a token',
    params: [p('token', '<npub>#<secret>, or the secret alone', text(256))],
    handler: 'access',
    result: '{"valid",...}',
  },
  {
    name: 'get_key_users',
    summary: "list a key's clients and their permissions",
    params: [KEY_OPT],
    handler: 'access',
    result: '[{"id","name","pubkey","description","createdAt","lastUsedAt","revokedAt","signingConditions"}]',
  },
  {
    name: 'rename_key_user',
    summary: 'set the description of a client (every key it uses)',
    params: [p('userPubkey', "the client's pubkey (hex)", hex64), p('description', 'the new description', text(1000), { optional: true })],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'revoke_user',
    summary: 'revoke a client of a key',
    params: [p('keyUserId', 'the key user id', recordId('key user'))],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'get_permissions',
    summary: "list a key user's permissions",
    params: [p('keyUserId', 'the key user id', recordId('key user'))],
    handler: 'access',
    result: '[{"id","method","kind","allowed","max_usage_count","current_usage_count","expires_at"}]',
  },
  {
    name: 'grant_permission',
    summary: 'allow a key user a method (and kind)',
    params: [
      p('keyUserId', 'the key user id', recordId('key user')),
      p('method', 'a NIP-46 method (sign_event, nip44_encrypt, ...)', text(64)),
      p('kind', 'an event kind, or "all"', text(16), { optional: true }),
    ],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'revoke_permission',
    summary: 'remove a permission',
    params: [p('permissionId', 'the permission id', recordId('permission'))],
    handler: 'access',
    result: '["ok"]',
  },
  {
    name: 'set_key_name',
    summary: 'give a key a NIP-05 name on a served domain',
    params: [KEY, p('address', 'name@domain', text(320))],
    handler: 'names',
    result: '["ok"]',
  },
  { name: 'remove_key_name', summary: 'remove a NIP-05 name', params: [p('address', 'name@domain', text(320))], handler: 'names', result: '["ok"]' },
  {
    name: 'get_key_names',
    summary: 'list NIP-05 names (of one key, or all)',
    params: [KEY_OPT],
    handler: 'names',
    result: '[{"name","key","npub","createdAt","by"}]',
  },
  {
    name: 'connect_nostrconnect',
    summary: "connect a client by the nostrconnect:// URI it shows: a user of the key, heard on the URI's relays",
    params: [
      KEY,
      p('uri', 'nostrconnect://<client pubkey>?relay=...&secret=...&perms=...&name=...', text(4096), { secret: true }),
      p('policyId', "the policy whose rules the client gets; the URI's perms when absent", recordId('policy'), { optional: true }),
    ],
    handler: 'nostrconnect',
    result: '{"pubkey","client","user","relays","linked"}',
  },
  {
    name: 'create_account',
    summary: 'a new key named username@domain for the asking client (open to anyone when accounts are on)',
    // the account provider checks these itself and answers with its own `invalid:` reasons
    params: [p('username', 'the name wanted', text(1000)), p('domain', 'a served domain', text(1000)), p('email', 'not kept', text(1000), { optional: true })],
    handler: 'accounts',
    result: 'the new pubkey (hex)',
    open: true,
  },
]

export const adminMethod = (name: string): AdminMethodSpec | undefined => ADMIN_TABLE.find((m) => m.name === name)

/** Why these params do not fit the method, naming the param; undefined when they do. */
export function paramProblem(spec: AdminMethodSpec, params: readonly string[]): string | undefined {
  if (spec.anyParams) return undefined
  for (const [i, param] of spec.params.entries()) {
    const v = params[i]
    if (v === undefined || v === '') {
      if (param.optional) continue
      return `invalid: ${spec.name}: ${param.name} is missing`
    }
    const r = param.check.safeParse(v)
    if (!r.success) return `invalid: ${spec.name}: ${param.name}: ${r.error.issues[0]?.message ?? 'not valid'}`
  }
  return undefined
}

export type AdminHandler = (params: string[]) => unknown

/**
 * Binds each declared method to its handler (groups absent at run time are skipped). Throws when a
 * group holds a method the table does not declare, or the table names one a group lacks: the two
 * cannot drift apart unnoticed.
 */
export function bindAdminTable<H extends AdminHandler>(
  groups: Partial<Record<HandlerGroup, Record<string, H>>>,
): Map<string, { spec: AdminMethodSpec; run: H }> {
  const bound = new Map<string, { spec: AdminMethodSpec; run: H }>()
  for (const spec of ADMIN_TABLE) {
    const group = groups[spec.handler]
    if (!group) continue
    const run = Object.hasOwn(group, spec.name) ? group[spec.name] : undefined
    if (!run) throw new Error(`admin table: ${spec.name} has no handler in ${spec.handler}`)
    bound.set(spec.name, { spec, run })
  }
  for (const [handler, group] of Object.entries(groups)) {
    for (const name of Object.keys(group ?? {})) {
      if (adminMethod(name)?.handler !== handler) throw new Error(`admin table: ${handler}.${name} is not declared`)
    }
  }
  return bound
}
