#!/usr/bin/env node
// Runs the whole tap suite and ends with one line CI can read: "N passed, N failed".
// The counts are tap's own (its final "# { total, pass, fail }" comment), the exit code is tap's.
// Extra arguments are passed to tap (e.g. a single test file).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tapBin = require.resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
const child = spawn(process.execPath, [tapBin, '--reporter=tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});

let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString('utf8')).slice(-4096);
});
child.on('close', (code, signal) => {
  const m = /^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?[^}]*\}$/m.exec(tail);
  let passed = m ? Number(m[2] ?? 0) : 0;
  let failed = m ? Number(m[3] ?? 0) : 0;
  const ok = code === 0 && signal === null;
  if (!ok && failed === 0) failed = 1; // tap failed outside an assertion (a crash or a timeout)
  if (ok && !m) passed = 0;
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exit(ok ? 0 : 1);
});
