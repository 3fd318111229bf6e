#!/usr/bin/env node
// The `nsecrelay` command (package.json "bin"): the TypeScript CLI, run through tsx.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
