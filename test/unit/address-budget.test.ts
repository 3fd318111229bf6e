import { describe, expect, test } from 'vitest'
import { createAddressBudget } from '../../relay/policy/address-budget.ts'

describe('address budget', () => {
  test('a burst, then the sustained rate; addresses are separate', () => {
    const b = createAddressBudget(2, 20)
    let taken = 0
    for (let i = 0; i < 30; i++) if (b.take('a', 1, 0)) taken++
    expect(taken).toBe(20)
    expect(b.take('b', 1, 0)).toBe(true)
    expect(b.take('a', 1, 400)).toBe(false) // 0.8 of a token refilled
    expect(b.take('a', 1, 500)).toBe(true) // one token after half a second at 2/s
  })

  test('an amount over the burst passes a full bucket, costing the whole burst', () => {
    const b = createAddressBudget(10, 100)
    expect(b.take('a', 500, 0)).toBe(true)
    expect(b.take('a', 1, 0)).toBe(false)
    expect(b.take('a', 500, 5_000)).toBe(false) // 50 refilled
    expect(b.take('a', 500, 10_000)).toBe(true)
  })

  test('idle addresses are forgotten after two refill periods; 0 is no bound', () => {
    const b = createAddressBudget(1, 10) // 10 s period
    for (let i = 0; i < 100; i++) b.take(`addr${i}`, 1, 0)
    expect(b.size).toBe(100)
    b.take('x', 1, 10_000)
    expect(b.size).toBe(101) // the old generation is still there
    b.take('x', 1, 20_000)
    expect(b.size).toBe(1)
    const open = createAddressBudget(0, 0)
    for (let i = 0; i < 1000; i++) expect(open.take('a', 1_000_000, 0)).toBe(true)
  })
})
