import { describe, expect, test } from 'vitest'
import { addressKey, forwardedAddress } from '../../relay/address.ts'

describe('client addresses', () => {
  test('IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64 in any spelling', () => {
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1')
    expect(addressKey('0000:0000:0000:0000:0000:ffff:7f00:0001')).toBe('127.0.0.1')
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('2001:0db8:0000:0000:abcd:0000:0000:0002')).toBe('2001:db8:0:0::/64')
    expect(addressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
  })

  test('a forwarded address is the last entry of the header, the one the proxy added', () => {
    expect(forwardedAddress('203.0.113.7', '127.0.0.1')).toBe('203.0.113.7')
    expect(forwardedAddress('1.1.1.1, 203.0.113.7', '127.0.0.1')).toBe('203.0.113.7')
    expect(forwardedAddress('2001:db8::5', '127.0.0.1')).toBe('2001:db8::5')
    expect(forwardedAddress('', '127.0.0.1')).toBe('127.0.0.1')
    expect(forwardedAddress('unknown', '127.0.0.1')).toBe('127.0.0.1')
  })
})
