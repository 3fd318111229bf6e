// A bounded set of recently seen ids, oldest evicted first. Ephemeral events are never stored, so
// this is how a resent ephemeral event (a replayed NIP-46 request, say) is still answered `duplicate:`.
export interface RecentIds {
  has(id: string): boolean
  add(id: string): void
}

export function createRecentIds(capacity: number): RecentIds {
  const ids = new Set<string>()
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.add(id)
      if (ids.size > capacity) ids.delete(ids.values().next().value as string)
    },
  }
}
