// What bench/soak.ts writes for its load processes (a 0600 JSON file in the run's temp directory):
// where the relay is, the bench's own throwaway admin key, the bunker keys it made, and the load's
// rates. The rates' values live at the top of bench/soak.ts; this is only their shape.

export interface SoakLoad {
  /** Legitimate publishers: distinct pubkeys, small kind-1 events without expiration. */
  publish: { connections: number; pubkeys: number; perSecond: number }
  /** Legitimate queries: small REQs (author, tag, recent), each closed after its EOSE. */
  query: { connections: number; perSecond: number }
  /** Reconnect churn: new connections with a live subscription, held 1-5 s, then closed or dropped. */
  churn: { perSecond: number; maxOpen: number }
  /** Bunker clients with tokens, each signing one kind-1 event every intervalMs (jittered). */
  sign: { clients: number; intervalMs: number }
  /** Which hostile patterns run (see bench/lib/hostile-*.ts), and how hard each pushes. */
  hostile: {
    enabled: string[]
    hugeFilters: { connections: number; values: number; subIds: number; pauseMs: number }
    count: { everyMs: number }
    slowReader: { connections: number; bytesPerSecond: number }
    partialFrames: { connections: number; announcedBytes: number; sentBytes: number; openPerSecond: number }
    storageFill: { eventBytes: number; inFlight: number; maxBytes: number }
    labelFlood: { perSecond: number }
    replay: { perSecond: number; floodEvents: number; throwawayKeys: number }
    scrypt: { inFlight: number; maxKeys: number }
    approvals: { perSecond: number; clients: number }
  }
}

export interface SoakSetup {
  url: string
  /** Local address the hostile clients connect from (the legitimate ones use 127.0.0.1). */
  hostileFrom: string
  /** The bench's admin secret key (hex): a key made for this run, listed with --admin. */
  adminSk: string
  /** The bunker's own admin identity, from its bunker:// line. */
  bunkerAdmin: string
  /** The unlocked user key the signers use, and the label and approval floods address. */
  userKey: { name: string; pubkey: string }
  /** A key left locked after the restart: unlock_key on it costs a real scrypt. */
  lockedKey: string
  /** Token secrets for the signers, one each. */
  tokens: string[]
  load: SoakLoad
}
