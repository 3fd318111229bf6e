// Client addresses: which one a connection counts against, and where it comes from behind a proxy.
import { isIPv4, isIPv6 } from 'node:net'

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function ipv6Groups(ip: string): number[] {
  let text = ip
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/)
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number)
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::')
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : [])
  const h = parse(head)
  const t = parse(tail)
  return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t]
}

/**
 * The key a connection counts against in the per-address limit: an IPv4 address (also when mapped
 * into IPv6), or an IPv6 address's /64, the block one subscriber usually holds: counting single
 * IPv6 addresses would give anyone with a /64 2^64 allowances.
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip
  const g = ipv6Groups(ip)
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`
}

/**
 * The client's address as a reverse proxy reports it in `header` (X-Forwarded-For, X-Real-IP): the
 * last entry, the one the proxy itself added; earlier entries are whatever the client claimed.
 * Falls back to the socket's address when the header is absent or not an address.
 */
export function forwardedAddress(headerValue: string, socketAddress: string): string {
  const last = headerValue.slice(headerValue.lastIndexOf(',') + 1).trim()
  return isIPv4(last) || isIPv6(last) ? last : socketAddress
}
