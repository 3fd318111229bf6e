// An upstream's NIP-11 document, for its `limitation`. Bounded in time and size: an upstream may be
// any URL an admin (or a nostrconnect URI) named.

const MAX_BYTES = 64 * 1024

export async function fetchRelayInfo(wsUrl: string, timeoutMs = 3000): Promise<unknown> {
  const url = new URL(wsUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  try {
    const res = await fetch(url, { headers: { Accept: 'application/nostr+json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (!res.ok || !res.body) return undefined
    const reader = res.body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > MAX_BYTES) {
        await reader.cancel()
        return undefined
      }
      chunks.push(value)
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}
