// Answers the CLI reads: passphrases and secret keys (never from argv) and the approver's choices.
// On a terminal a secret is typed without echo; from a pipe each answer is the next line of stdin;
// with a file (--passphrase-file) the next line of the file, its last line answering any further
// question.
import { readFileSync } from 'node:fs'
import { createInterface, type Interface } from 'node:readline'
import { CliError } from './errors.ts'

let piped: { rl: Interface; lines: string[]; waiting: Array<(l: string | undefined) => void>; ended: boolean } | undefined

/** The next line of a piped stdin; undefined once it has ended. */
function nextPipedLine(): Promise<string | undefined> {
  if (!piped) {
    const p = {
      rl: createInterface({ input: process.stdin, terminal: false }),
      lines: [] as string[],
      waiting: [] as Array<(l: string | undefined) => void>,
      ended: false,
    }
    p.rl.on('line', (l) => {
      const w = p.waiting.shift()
      if (w) w(l)
      else p.lines.push(l)
    })
    p.rl.on('close', () => {
      p.ended = true
      for (const w of p.waiting.splice(0)) w(undefined)
    })
    piped = p
  }
  const p = piped
  if (p.lines.length > 0) return Promise.resolve(p.lines.shift())
  if (p.ended) return Promise.resolve(undefined)
  return new Promise((resolve) => p.waiting.push(resolve))
}

/** Reads a line typed at the terminal without echoing it. */
function hiddenLine(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  let value: string[] = []
  return new Promise((resolve, reject) => {
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish()
          return resolve(value.join(''))
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish()
          return reject(new CliError('cancelled', 130))
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else if (ch >= ' ') value.push(ch)
      }
    }
    stdin.on('data', onData)
  })
}

/** A line typed at the terminal, echoed (for choices, not secrets). */
export async function askLine(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return nextPipedLine()
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve))
  } finally {
    rl.close()
  }
}

export interface SecretReader {
  /** `confirm`: a new secret, typed twice at a terminal. */
  read(what: string, opts?: { confirm?: boolean }): Promise<string>
}

export function secretReader(file?: string): SecretReader {
  if (file !== undefined) {
    let lines: string[]
    try {
      lines = readFileSync(file, 'utf8').split(/\r?\n/)
    } catch (err) {
      throw new CliError(`${file}: cannot read (${(err as Error).message})`)
    }
    if (lines.length > 1 && lines.at(-1) === '') lines.pop()
    let next = 0
    return { read: async () => lines[Math.min(next++, lines.length - 1)] }
  }
  if (!process.stdin.isTTY) {
    return {
      async read(what) {
        const line = await nextPipedLine()
        if (line === undefined) throw new CliError(`no ${what} on stdin (one a line), and no --passphrase-file`)
        return line
      },
    }
  }
  return {
    async read(what, opts) {
      const value = await hiddenLine(`${what}: `)
      if (opts?.confirm && (await hiddenLine(`${what} again: `)) !== value) throw new CliError(`the two ${what}s differ`)
      return value
    },
  }
}
