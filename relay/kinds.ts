// Event kinds the relay treats specially, and NIP-01's kind classes.
export const DELETION_KIND = 5
export const AUTH_KIND = 22242

export const isReplaceable = (kind: number): boolean => kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)
export const isEphemeral = (kind: number): boolean => kind >= 20000 && kind < 30000
export const isAddressable = (kind: number): boolean => kind >= 30000 && kind < 40000
