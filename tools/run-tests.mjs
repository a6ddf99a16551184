#!/usr/bin/env node
// Runs the whole tap suite and ends with one line CI can read: "N passed, N failed".
// The counts are tap's own (its final "# { total, pass, fail }" comment), the exit code is tap's.
// Just before that line it repeats every failed assertion with its test path and tap's diagnostic,
// so a CI log that keeps only its tail still says what failed.
// Extra arguments are passed to tap (e.g. a single test file).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const MAX_FAILURE_LINES = 400;
const require = createRequire(import.meta.url);
const tapBin = require.resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
const child = spawn(process.execPath, [tapBin, '--reporter=tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});

let tail = '';
let partial = '';
const subtests = []; // subtest names by nesting depth
const failures = []; // lines to repeat at the end
let diagIndent = -1; // > -1 while copying the YAML diagnostic of a failure

function onLine(line) {
  const indent = line.length - line.trimStart().length;
  const depth = Math.floor(indent / 4);
  const text = line.trim();
  if (diagIndent >= 0) {
    if (text === '' || indent >= diagIndent) {
      if (failures.length < MAX_FAILURE_LINES) failures.push(line);
      if (text === '...') diagIndent = -1;
      return;
    }
    diagIndent = -1;
  }
  const sub = /^# Subtest: (.*)$/.exec(text);
  if (sub) {
    subtests.length = depth;
    subtests[depth] = sub[1];
    return;
  }
  const notOk = /^not ok \d+ - (.*?)(?: # time=.*)?$/.exec(text);
  if (notOk) {
    const path = [...subtests.slice(0, depth), notOk[1]].join(' > ');
    if (failures.length < MAX_FAILURE_LINES) failures.push(`not ok: ${path}`);
    // A subtest that failed because a child did: its diagnostic says nothing new.
    const parent = subtests[depth] === notOk[1];
    diagIndent = parent ? -1 : indent + 2;
  }
}

child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const s = chunk.toString('utf8');
  tail = (tail + s).slice(-4096);
  const lines = (partial + s).split('\n');
  partial = lines.pop() ?? '';
  for (const l of lines) onLine(l);
});
child.on('close', (code, signal) => {
  if (partial) onLine(partial);
  const m = /^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?[^}]*\}$/m.exec(tail);
  let passed = m ? Number(m[2] ?? 0) : 0;
  let failed = m ? Number(m[3] ?? 0) : 0;
  const ok = code === 0 && signal === null;
  if (!ok && failed === 0) failed = 1; // tap failed outside an assertion (a crash or a timeout)
  if (ok && !m) passed = 0;
  if (failures.length > 0) {
    process.stdout.write(`\n# Failures (repeated from above):\n${failures.join('\n')}\n`);
    if (failures.length >= MAX_FAILURE_LINES) process.stdout.write('# (more failures above)\n');
  }
  if (!ok && signal !== null) process.stdout.write(`# tap ended by signal ${signal}\n`);
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exit(ok ? 0 : 1);
});
