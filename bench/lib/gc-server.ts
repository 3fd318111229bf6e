// The server (src/main.ts) for memory benchmarks: on SIGUSR2 it runs a full garbage collection
// (node --expose-gc) and prints `memory <process.memoryUsage() JSON>`, so a reading is not taken
// halfway through garbage.
process.on('SIGUSR2', () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  process.stdout.write(`memory ${JSON.stringify(process.memoryUsage())}\n`)
})
await import('../../src/main.ts')
