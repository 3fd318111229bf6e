// `nsecrelay approvals`: answers the bunker's `acl` questions (an unknown client, or a request no
// permission covers) as an admin, one at a time: once, always (this method; for sign_event this
// kind), always all (every kind), never. Questions go to every admin; the first answer counts, and
// the bunker waits `bunker.aclTimeoutSeconds` (10 s by default) before refusing.
import { Command } from 'commander'
import { nip19 } from 'nostr-tools'
import { type ClientFlags, clientOptions, withAdmin } from './context.ts'
import { CliError } from './errors.ts'
import { askLine } from './input.ts'
import type { AclRequest } from './rpc-client.ts'

const preview = (s: string, n = 80): string => JSON.stringify(s.length > n ? `${s.slice(0, n)}...` : s)

function kindOf(q: AclRequest): number | undefined {
  if (q.method !== 'sign_event' || !q.param) return undefined
  try {
    const k = JSON.parse(q.param).kind
    return Number.isSafeInteger(k) ? k : undefined
  } catch {
    return undefined
  }
}

/** One line saying who asks for what. */
export function describeQuestion(q: AclRequest): string {
  const client = `${nip19.npubEncode(q.remotePubkey)}${q.description ? ` (${q.description})` : ''}`
  let what = q.method
  if (q.method === 'sign_event' && q.param) {
    try {
      const e = JSON.parse(q.param)
      what = `sign_event kind ${e.kind}: ${preview(String(e.content ?? ''))}`
    } catch {}
  }
  return `key ${q.keyName}: client ${client} asks to ${what}`
}

/** The reply for a typed answer; null: no answer; undefined: not an answer. */
export function replyFor(text: string, q: AclRequest): unknown[] | null | undefined {
  const a = text.trim().toLowerCase()
  if (a === '' || a === 'skip') return null
  if (a === 'o' || a === 'once') return ['once']
  if (a === 'n' || a === 'never') return ['never']
  const kind = kindOf(q)
  if (a === 'a' || a === 'always') return ['always', q.description ?? '', kind === undefined ? {} : { kind: String(kind) }]
  if (a === 'all' || a === 'always all') return ['always', q.description ?? '', { kind: 'all' }]
  return undefined
}

const CHOICES = 'once, always, always all (every kind), never, or empty to leave it'

export function approvalsCommand(): Command {
  return clientOptions(
    new Command('approvals')
      .summary("answer the bunker's acl questions: once, always, never")
      .description(`answer the bunker's acl questions as they come: ${CHOICES}.\nOn a terminal it asks; from a pipe each answer is a line of stdin.`)
      .option('--count <n>', 'stop after answering this many questions'),
  ).action(async (flags: ClientFlags & { count?: string }) => {
    const limit = flags.count === undefined ? Number.POSITIVE_INFINITY : Number(flags.count)
    if (!(limit >= 1)) throw new CliError(`--count must be at least 1, not ${flags.count}`, 2)
    await withAdmin(flags, async (client) => {
      const queue: AclRequest[] = []
      let wake: (() => void) | undefined
      client.onAcl((q) => {
        queue.push(q)
        wake?.()
      })
      process.stderr.write(`waiting for acl questions to ${nip19.npubEncode(client.pubkey)} (Ctrl-C to stop)\n`)
      let answered = 0
      while (answered < limit) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
        const q = queue.shift()!
        process.stdout.write(`${describeQuestion(q)}\n`)
        let reply: unknown[] | null | undefined
        do {
          const line = await askLine(`answer (${CHOICES}): `)
          if (line === undefined) return // stdin ended
          reply = replyFor(line, q)
          if (reply === undefined) process.stderr.write(`not an answer: ${CHOICES}\n`)
        } while (reply === undefined)
        if (reply === null) continue
        await client.answer(q, reply)
        answered++
        process.stdout.write(`answered ${reply[0]}${(reply[2] as { kind?: string } | undefined)?.kind === 'all' ? ' (every kind)' : ''}\n`)
      }
    })
  })
}
