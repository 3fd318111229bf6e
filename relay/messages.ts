// NIP-01 framing: client frames in (parsed and checked for arity and types, not for meaning) and
// relay frames out. EVENT frames reuse the stored JSON text of the event instead of re-serialising.

export type ClientMessage =
  | { type: 'EVENT'; event: unknown }
  | { type: 'REQ'; subId: string; filters: unknown[] }
  | { type: 'COUNT'; subId: string; filters: unknown[] }
  | { type: 'CLOSE'; subId: string }
  | { type: 'AUTH'; event: unknown }

/** A frame that cannot be acted on; subId is set when a REQ or COUNT named one, for a CLOSED reply. */
export interface FrameError {
  type: 'error'
  reason: string
  subId?: string
  verb?: string
}

const MAX_SUB_ID = 64

function subIdError(subId: unknown): string | undefined {
  if (typeof subId !== 'string' || subId.length === 0) return 'invalid: subscription id must be a non-empty string'
  if (subId.length > MAX_SUB_ID) return `invalid: subscription id longer than ${MAX_SUB_ID} characters`
  return undefined
}

export function parseClientMessage(text: string): ClientMessage | FrameError {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch {
    return { type: 'error', reason: 'invalid: message is not JSON' }
  }
  if (!Array.isArray(msg) || msg.length === 0 || typeof msg[0] !== 'string')
    return { type: 'error', reason: 'invalid: message must be a JSON array starting with a verb' }
  const verb = msg[0]
  switch (verb) {
    case 'EVENT':
    case 'AUTH':
      if (msg.length !== 2) return { type: 'error', reason: `invalid: ${verb} takes exactly one event`, verb }
      return { type: verb, event: msg[1] }
    case 'REQ':
    case 'COUNT': {
      const err = subIdError(msg[1])
      // even an id too long to accept is echoed in CLOSED: the client matches refusals by it
      if (err) return { type: 'error', reason: err, verb, ...(typeof msg[1] === 'string' ? { subId: msg[1] } : {}) }
      if (msg.length < 3) return { type: 'error', reason: `invalid: ${verb} needs at least one filter`, subId: msg[1], verb }
      return { type: verb, subId: msg[1], filters: msg.slice(2) }
    }
    case 'CLOSE': {
      const err = subIdError(msg[1]) ?? (msg.length !== 2 ? 'invalid: CLOSE takes exactly one subscription id' : undefined)
      if (err) return { type: 'error', reason: err, verb }
      return { type: 'CLOSE', subId: msg[1] }
    }
    default:
      return { type: 'error', reason: `invalid: unknown message type ${JSON.stringify(verb.slice(0, 20))}` }
  }
}

const str = JSON.stringify

// A fan-out sends one event to many subscriptions, often under the same id ("sub", "notes"...):
// the last frame built is reused, so those sockets share one flat string instead of one each.
let last = { subId: '', json: '', frame: '' }

export function eventFrame(subId: string, json: string): string {
  if (json === last.json && subId === last.subId) return last.frame
  last = { subId, json, frame: `["EVENT",${str(subId)},${json}]` }
  return last.frame
}
export const okFrame = (id: string, ok: boolean, message: string): string => str(['OK', id, ok, message])
export const eoseFrame = (subId: string): string => str(['EOSE', subId])
export const closedFrame = (subId: string, reason: string): string => str(['CLOSED', subId, reason])
export const noticeFrame = (message: string): string => str(['NOTICE', message])
export const authFrame = (challenge: string): string => str(['AUTH', challenge])
/** NIP-45; `approximate` when the count stopped at its work bound. */
export const countFrame = (subId: string, count: number, approximate = false): string =>
  str(['COUNT', subId, approximate ? { count, approximate: true } : { count }])
