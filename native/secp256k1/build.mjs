// Builds the secp256k1 addon when the system library is installed. Never fails the install: without
// the addon, tiny-secp256k1 (wasm) serves, ~4-5x slower per signature.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const hint = 'apt-get install libsecp256k1-dev && npm run build:native'
const hasLibrary = ['/usr/include', '/usr/local/include'].some((dir) => existsSync(`${dir}/secp256k1_schnorrsig.h`))

if (!hasLibrary) {
  console.log(`nsecrelay: libsecp256k1-dev is not installed, so secp256k1 runs on wasm. For native speed: ${hint}`)
} else {
  // npm names its bundled node-gyp in npm_config_node_gyp; outside npm, node-gyp must be on PATH.
  const gyp = process.env.npm_config_node_gyp
  const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []]
  const run = spawnSync(cmd, [...args, 'rebuild', '--directory', here], { stdio: 'inherit' })
  if (run.status !== 0) console.log(`nsecrelay: the secp256k1 addon did not build, so secp256k1 runs on wasm. Retry: ${hint}`)
}
