// Structured logs (pino) on stderr; stdout carries only the announcement lines (`listening ...`,
// `bunker://...`) that operators and tests read. JSON lines for machines, or pino-pretty's one
// readable line per entry for a person at a terminal (the default when stderr is a TTY).
import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }
export type LogFormat = 'pretty' | 'json'

export const defaultLogFormat = (): LogFormat => (process.stderr.isTTY ? 'pretty' : 'json')

export function createLogger(level: string, format: LogFormat = defaultLogFormat()): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }
  if (format === 'pretty')
    return pino(options, pretty({ destination: 2, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l', singleLine: true, sync: true }))
  return pino(options, pino.destination({ fd: 2, sync: false }))
}
