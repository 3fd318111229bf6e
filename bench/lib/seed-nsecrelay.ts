// Seeds an nsecrelay data directory with the synthetic dataset, through the store's own write path
// (one transaction per 5,000 events). Usage: seed-nsecrelay.ts <dataDir> <count>
import { openEnvironment, openStore } from '../../relay/store/store.ts'
import { dataset } from './dataset.ts'

const [dir, countText] = process.argv.slice(2)
const count = Number(countText)
const env = openEnvironment(dir)
const store = openStore(env)
const started = performance.now()
let pending: Promise<unknown>[] = []
for (const e of dataset().events(count)) {
  pending.push(store.save(e, JSON.stringify(e)))
  if (pending.length === 5000) {
    await Promise.all(pending)
    pending = []
  }
}
await Promise.all(pending)
await env.close()
console.log(`seeded ${count} ${Math.round(performance.now() - started)} ms`)
