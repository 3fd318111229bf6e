// The relay's one clock reading in NIP-01 units.
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
