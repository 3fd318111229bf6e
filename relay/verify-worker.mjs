// Worker entry: a plain module that lets the TypeScript worker load under tsx, which a worker
// thread does not inherit from its parent.
import { register } from 'tsx/esm/api'

register()
await import('./verify-worker.ts')
