#!/usr/bin/env node
// Bundles the CLI (node/cli.ts and everything it imports) into one ESM file, dist/umbra.mjs.
// The native addons stay external, loaded from node_modules at run time (through the createRequire
// shim in the banner): cbor-extract (cbor-x's optional fast path) and sodium-native (libsodium,
// which finds its prebuilt binary relative to its own package).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const out = 'dist/umbra.mjs';
await build({
  entryPoints: ['node/cli.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['cbor-extract', 'sodium-native'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __umbraCreateRequire } from 'node:module';",
      'const require = __umbraCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
chmodSync(out, 0o755);
console.error(`built ${out}`);
