// Structured logs (pino, JSON lines) on stderr; stdout carries only the announcement lines
// (`listening ...`, `bunker://...`) that operators and tests read.
import pino, { type Logger } from 'pino'

export type { Logger }

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }))
}
