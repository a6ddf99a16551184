// `umbra devnet` as a user runs it: N nodes start, link and print their gateways and a ready line;
// --store-size reaches every node (its status shows the budgets); a bad flag is a usage error
// (exit 2) before any node starts; Ctrl-C stops every node and the devnet exits 0.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LIVE_FRACTION } from '../../node/datastore/datastore.ts';
import { until } from './proc-helpers.ts';

const CLI = path.resolve('node/cli.ts');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-devnet-test-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));

t.test('three nodes with 64 MiB stores: ready, each budget as asked, Ctrl-C stops them all', async (t) => {
  const p = spawn(process.execPath, ['--import=tsx', CLI, 'devnet', '--nodes', '3', '--dir', base, '--store-size', '64MiB'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  p.stderr.resume();
  t.ok(await until(() => (/^ready: 3 nodes linked/m.test(out) ? true : undefined), 60_000), 'ready line');
  const gateways = [...out.matchAll(/gateway (http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1] as string);
  t.equal(gateways.length, 3, 'three gateways printed');
  for (const g of gateways) {
    const st = (await (await fetch(`${g}/api/v1/status`)).json()) as { peers: unknown[]; store: { store: { budget: number }; cache: { budget: number } } };
    t.equal(st.peers.length, 2, `${g}: linked to both others`);
    const budget = st.store.store.budget + st.store.cache.budget;
    t.ok(budget <= 64 * 2 ** 20 * LIVE_FRACTION && budget > 64 * 2 ** 20 * LIVE_FRACTION * 0.99, `${g}: budgets from --store-size (${budget} bytes)`);
  }
  const pids = [0, 1, 2].map((i) => fs.existsSync(path.join(base, `node-${i + 1}`)));
  t.same(pids, [true, true, true], 'data directories under --dir');
  p.kill('SIGINT');
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  t.equal(code, 0, 'the devnet exits 0 on Ctrl-C');
  for (const g of gateways) {
    const up = await fetch(`${g}/api/v1/status`, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
    t.notOk(up, `${g}: stopped`);
  }
});

t.test('a bad --store-size is a usage error before any node starts', async (t) => {
  const dir = path.join(base, 'bad');
  const r = spawnSync(process.execPath, ['--import=tsx', CLI, 'devnet', '--nodes', '2', '--dir', dir, '--store-size', 'lots'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, /--store-size: "lots" is not a size/);
  t.notOk(fs.existsSync(path.join(dir, 'node-1')), 'no node was started');
});
