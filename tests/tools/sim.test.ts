// The routing simulator (tools/sim): a 1,000-node network routes ≥ 99 % of lookups to the live
// node closest to their key, also after 20 % of a network fails abruptly; a run is a pure function
// of its seed; the CLI prints the report and, with --json, one JSON line last.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { runSimulation } from '../../tools/sim/scenario.ts';

t.test('1,000 nodes: at least 99 % of lookups reach the closest node', async (t) => {
  const started = performance.now();
  const r = runSimulation({ nodes: 1000, seed: 1, lookups: 1000 });
  const seconds = (performance.now() - started) / 1000;
  t.equal(r.formation.joined, 1000, 'every node joined');
  t.ok(r.successRate >= 0.99, `success ${r.successRate}`);
  t.ok(r.meanHops > 0 && r.meanHops <= 6, `mean hops ${r.meanHops}`);
  t.ok(r.p99Hops <= 8, `p99 hops ${r.p99Hops}`);
  t.equal(r.descriptorVerifications, 1000, 'each descriptor verified once');
  t.comment(`1,000-node run: ${seconds.toFixed(1)} s, ${JSON.stringify({ successRate: r.successRate, meanHops: r.meanHops, p99Hops: r.p99Hops, messagesPerLookup: r.messagesPerLookup })}`);
});

t.test('after 20 % of the nodes fail abruptly, at least 97 % of lookups still succeed', async (t) => {
  const r = runSimulation({ nodes: 500, seed: 2, lookups: 500, churn: 0.2 });
  t.equal(r.killed, 100);
  t.ok(r.successRate >= 0.97, `success ${r.successRate}`);
  t.ok(r.messagesPerLookup > 0);
});

t.test('the same seed gives the same result; another seed another one', async (t) => {
  const opts = { nodes: 200, lookups: 200, churn: 0.2 };
  const a = runSimulation({ ...opts, seed: 5 });
  const b = runSimulation({ ...opts, seed: 5 });
  const c = runSimulation({ ...opts, seed: 6 });
  t.same(a, b);
  t.notSame(a, c);
  t.throws(() => runSimulation({ nodes: 1, seed: 1 }), RangeError);
  t.throws(() => runSimulation({ nodes: 10, seed: 1, churn: 1 }), RangeError);
});

t.test('the CLI: report, a JSON last line, byte-identical apart from wall time and memory', async (t) => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import=tsx', 'tools/sim/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  const args = ['--nodes', '80', '--seed', '3', '--lookups', '60', '--churn', '0.1', '--json', '--quiet'];
  const one = run(...args), two = run(...args);
  t.equal(one.status, 0, one.stderr);
  const lines = one.stdout.trimEnd().split('\n');
  const last = JSON.parse(lines[lines.length - 1]);
  for (const k of ['nodes', 'seed', 'successRate', 'meanHops', 'p99Hops', 'messagesPerLookup', 'wallMs', 'peakRssMiB']) {
    t.ok(k in last, `JSON has ${k}`);
  }
  t.equal(last.nodes, 80);
  t.equal(last.seed, 3);
  t.ok(lines.some((l) => l.startsWith('success rate')));
  const strip = (s: string) =>
    s.split('\n').filter((l) => !/^(wall time|peak memory)/.test(l)).join('\n').replace(/,"wallMs":\d+,"peakRssMiB":\d+/, '');
  t.equal(strip(two.stdout), strip(one.stdout), 'same seed, same output');
  const bad = run('--nodes', 'x', '--seed', '1');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--nodes needs an integer/);
});
