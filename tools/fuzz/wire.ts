// Long fuzz runs of every registered decoder (the CBOR codecs and the network-facing binary ones):
//   npm run fuzz -- [--iterations N] [--seed S] [--max-len L] [--slow-ms MS]
// N inputs per target (default 200000). Prints one line per target and every finding (the input in
// hex, to reproduce with the same seed or by hand); exits 1 on any finding, 2 on bad arguments.
import { runFuzz } from './harness.ts';
import { netTargets } from './net-targets.ts';
import { protocolTargets } from './protocol-targets.ts';
import { targets as wireTargets } from './targets.ts';

const targets = [...wireTargets, ...netTargets, ...protocolTargets];

function parseArgs(argv: string[]): { iterations: number; seed: number; maxLen: number; slowMs: number } {
  const opts = { iterations: 200_000, seed: Date.now() % 2 ** 32, maxLen: 512, slowMs: 200 };
  const names: Record<string, keyof typeof opts> = { '--iterations': 'iterations', '--seed': 'seed', '--max-len': 'maxLen', '--slow-ms': 'slowMs' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isSafeInteger(value) || value < 0) {
      console.error(`usage: npm run fuzz -- [--iterations N] [--seed S] [--max-len L] [--slow-ms MS] (bad: ${argv[i]} ${argv[i + 1] ?? ''})`);
      process.exit(2);
    }
    opts[key] = value;
  }
  opts.seed >>>= 0;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
console.log(`fuzzing ${targets.length} targets, ${opts.iterations} inputs each, seed ${opts.seed}, max-len ${opts.maxLen}`);
const report = runFuzz(targets, opts);
for (const t of report.targets) {
  const codes = Object.entries(t.rejected).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  console.log(`${t.name}: ${t.runs} runs, ${t.accepted} accepted, slowest ${t.slowestMs.toFixed(2)} ms (${t.slowestInput.length} bytes); rejected: ${codes}`);
}
for (const f of report.findings) {
  console.log(`FINDING ${f.target} ${f.kind}: ${f.error}\n  input (${f.input.length} bytes): ${Buffer.from(f.input).toString('hex')}`);
}
const rate = Math.round(report.inputs / (report.elapsedMs / 1000));
console.log(`${report.inputs} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s (${rate}/s), ${report.findingCount} findings (seed ${report.seed})`);
process.exit(report.findingCount === 0 ? 0 : 1);
