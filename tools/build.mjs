#!/usr/bin/env node
// Bundles the CLI (node/cli.ts and everything it imports) into one ESM file, dist/umbra.mjs.
// The native addons stay external, loaded from node_modules at run time (through the createRequire
// shim in the banner): cbor-extract (cbor-x's optional fast path) and sodium-native (libsodium,
// which finds its prebuilt binary relative to its own package).
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const out = 'dist/umbra.mjs';
// The V8 flags of every node process (NODE_V8_FLAGS in node/constants.ts, read from there so the two
// never differ), on the executable's first line: `umbra node` starts with them (env -S splits them).
const constants = readFileSync(new URL('../node/constants.ts', import.meta.url), 'utf8');
const flagsLine = /NODE_V8_FLAGS: readonly string\[\] = \[([^\]]*)\]/.exec(constants);
if (!flagsLine) throw new Error('tools/build.mjs: NODE_V8_FLAGS not found in node/constants.ts');
const NODE_V8_FLAGS = [...flagsLine[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
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
      `#!/usr/bin/env -S node ${NODE_V8_FLAGS.join(' ')}`,
      "import { createRequire as __umbraCreateRequire } from 'node:module';",
      'const require = __umbraCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
chmodSync(out, 0o755);
console.error(`built ${out}`);
