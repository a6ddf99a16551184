// Ten `umbra node` processes on loopback, each bootstrapped from one contact (node i from node
// i-1's contact file, a chain): every node reaches at least 5 live links, and every node can route
// to other nodes' ids through its gateway. Then SIGTERM stops each within 5 s and frees its lock.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { NODE_V8_FLAGS } from '../../node/constants.ts';
import { readTrimmed, sleep, until } from './proc-helpers.ts';

const N = 10;
const CLI = path.resolve('node/cli.ts');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-mp-'));
const procs: ChildProcess[] = [];
t.teardown(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
});

async function getJson(url: string): Promise<any> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.json() };
}

t.test('ten processes link up and route to each other', async (t) => {
  const dirs: string[] = [];
  const gateways: string[] = [];
  let lastStart = 0;
  for (let i = 0; i < N; i++) {
    const dir = path.join(base, `n${i}`);
    dirs.push(dir);
    const args = [...NODE_V8_FLAGS, '--import=tsx', CLI, 'node', '--data', dir, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'warn'];
    if (i > 0) args.push('--bootstrap', path.join(dirs[i - 1] as string, 'contact'));
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d) => (err = (err + d).slice(-4000)));
    p.on('exit', (code) => code && t.comment(`node ${i} exited ${code}: ${err}`));
    procs.push(p);
    const gw = await until(() => readTrimmed(path.join(dir, 'gateway')), 20_000);
    t.ok(gw, `node ${i} wrote its gateway file`);
    gateways.push(gw as string);
    lastStart = Date.now();
  }

  const linked = await until(async () => {
    const sts = await Promise.all(gateways.map((g) => getJson(`${g}/api/v1/status`).catch(() => null)));
    return sts.every((s) => s && s.body.peers.length >= 5) ? sts : undefined;
  }, 30_000);
  t.ok(linked, 'every node has at least 5 live links');
  t.comment(`linked ${Date.now() - lastStart} ms after the last node started`);
  const ids: string[] = (linked ?? []).map((s: any) => s.body.id);
  for (const s of linked ?? []) {
    t.equal(s.body.peers.length, new Set(s.body.peers.map((p: any) => p.id)).size, 'one link per peer');
    t.match(s.body.contact, /^umbra:[a-z2-7]{58}@127\.0\.0\.1:\d+$/);
  }

  let hops = 0, lookups = 0;
  for (let i = 0; i < N; i++) {
    for (const j of [(i + 3) % N, (i + 7) % N]) {
      const r = await getJson(`${gateways[i]}/api/v1/lookup?key=${ids[j]}`);
      t.equal(r.status, 200);
      t.equal(r.body.ok, true, `node ${i} routes to node ${j}`);
      t.equal(r.body.node, ids[j], `node ${i} reached node ${j} itself`);
      hops += r.body.hops ?? 0;
      lookups++;
    }
  }
  t.comment(`${lookups} lookups, mean ${(hops / lookups).toFixed(2)} hops`);
  t.equal((await getJson(`${gateways[0]}/api/v1/lookup?key=XYZ`)).status, 400, 'a malformed key is a 400');

  // A second node on a running node's data directory is refused.
  const dup = spawn(process.execPath, ['--import=tsx', CLI, 'node', '--data', dirs[0] as string, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let dupErr = '';
  dup.stderr?.on('data', (d) => (dupErr += d));
  const dupCode = await new Promise<number | null>((r) => dup.on('exit', (c) => r(c)));
  t.equal(dupCode, 2, 'second start on the same data directory exits 2');
  t.match(dupErr, /already running/);

  // Clean shutdown within 5 s each.
  for (const [i, p] of procs.entries()) {
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    p.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(5000).then(() => 'timeout')]);
    t.equal(code, 0, `node ${i} exits 0 on SIGTERM (${Date.now() - t0} ms)`);
    t.notOk(fs.existsSync(path.join(dirs[i] as string, 'lock')), `node ${i} released its lock`);
  }
});
