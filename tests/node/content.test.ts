// Content across ten `umbra node` processes on loopback: a 50 MiB file inserted through one node's
// gateway comes back byte-identical through another's, with its type and name; `umbra put` and
// `umbra get` work as documented, including their exit codes for a bad key (2), content the
// network does not have (3) and an unreachable gateway (4).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { NODE_V8_FLAGS } from '../../node/constants.ts';
import { readTrimmed, until } from './proc-helpers.ts';
import { insertContent } from '../../store/split.ts';

const N = 10;
const CLI = path.resolve('node/cli.ts');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-content-'));
const procs: ChildProcess[] = [];
t.teardown(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
});
const umbra = (...args: string[]) => spawnSync(process.execPath, ['--import=tsx', CLI, ...args], { encoding: 'buffer', timeout: 120_000 });
// spawnSync blocks this process's event loop, so fetch's pool does not see a gateway close an idle
// keep-alive connection meanwhile (after 5 s) and would send the next request into it: the loop
// runs once first.
const settled = () => new Promise((r) => setTimeout(r, 20));

t.test('a 50 MiB file crosses a 10-node network intact', async (t) => {
  const dirs: string[] = [];
  const gateways: string[] = [];
  for (let i = 0; i < N; i++) {
    const dir = path.join(base, `n${i}`);
    dirs.push(dir);
    const args = [...NODE_V8_FLAGS, '--import=tsx', CLI, 'node', '--data', dir, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'warn', '--store-size', '256MiB'];
    if (i > 0) args.push('--bootstrap', path.join(dirs[0] as string, 'contact'));
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(p);
    gateways.push((await until(() => readTrimmed(path.join(dir, 'gateway')), 20_000)) as string);
  }
  const linked = await until(async () => {
    const sts = await Promise.all(gateways.map((g) => fetch(`${g}/api/v1/status`).then((r) => r.json()).catch(() => null)));
    return sts.every((s: any) => s && s.peers.length >= 5) ? true : undefined;
  }, 30_000);
  t.ok(linked, 'the network linked up');

  const data = new Uint8Array(randomBytes(50 * 1024 * 1024));
  const digest = createHash('sha256').update(data).digest('hex');
  let t0 = Date.now();
  const ins = await fetch(`${gateways[2]}/api/v1/insert?name=${encodeURIComponent('big file.bin')}&type=application/x-test`, {
    method: 'POST',
    body: data,
  });
  t.equal(ins.status, 201, 'insert accepted');
  const { key, blocks, copies } = (await ins.json()) as { key: string; blocks: number; copies: { min: number; fewer: number } };
  const insertMs = Date.now() - t0;
  t.match(key, /^umbra:CHK@[a-z2-7]+$/);
  t.same(copies, { min: 3, fewer: 0 }, `every one of the ${blocks} blocks has its 3 copies (manifest blocks 6)`);

  t0 = Date.now();
  const res = await fetch(`${gateways[7]}/${key}`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/x-test');
  t.equal(res.headers.get('content-length'), String(data.length));
  t.match(res.headers.get('content-disposition') ?? '', /big file\.bin/);
  const h = createHash('sha256');
  let got = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    h.update(chunk);
    got += chunk.length;
  }
  const fetchMs = Date.now() - t0;
  t.equal(got, data.length);
  t.equal(h.digest('hex'), digest, 'byte-identical');
  const mib = data.length / 2 ** 20;
  t.comment(`50 MiB: insert ${insertMs} ms (${(mib / (insertMs / 1000)).toFixed(1)} MiB/s), fetch ${fetchMs} ms (${(mib / (fetchMs / 1000)).toFixed(1)} MiB/s)`);

  // The CLI, as a user runs it.
  const src = path.join(base, 'hello.txt');
  fs.writeFileSync(src, 'hello, umbra\n');
  const put = umbra('put', src, '--data', dirs[1] as string);
  t.equal(put.status, 0, `umbra put exits 0 (${put.stderr})`);
  const smallKey = put.stdout.toString().trim();
  const get = umbra('get', smallKey, '--data', dirs[8] as string);
  t.equal(get.status, 0, 'umbra get exits 0');
  t.equal(get.stdout.toString(), 'hello, umbra\n');
  const out = path.join(base, 'out.txt');
  t.equal(umbra('get', smallKey, '-o', out, '--gateway', gateways[5] as string).status, 0);
  t.equal(fs.readFileSync(out, 'utf8'), 'hello, umbra\n');

  const bad = umbra('get', smallKey.slice(0, -3), '--data', dirs[8] as string);
  t.equal(bad.status, 2, 'a truncated key exits 2');
  t.match(bad.stderr.toString(), /bad key/);
  await settled();
  const r = await fetch(`${gateways[4]}/umbra:CHK@zzz`);
  t.equal(r.status, 400, 'the gateway answers 400 for a malformed key');

  // Unreachable gateway, a node with no peers, and a valid key for content nobody inserted.
  t.equal(umbra('put', src, '--gateway', 'http://127.0.0.1:1').status, 4, 'an unreachable gateway exits 4');
  const lone = path.join(base, 'lone');
  procs.push(
    spawn(process.execPath, ['--import=tsx', CLI, 'node', '--data', lone, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'error'], {
      stdio: 'ignore',
    }),
  );
  await until(() => readTrimmed(path.join(lone, 'gateway')), 20_000);
  t.equal(umbra('put', src, '--data', lone).status, 4, 'a node with no peers cannot insert: exit 4');
  // Give it one peer: a two-node network cannot hold 3 copies, and the user is told so.
  const mate = path.join(base, 'mate');
  procs.push(
    spawn(process.execPath, ['--import=tsx', CLI, 'node', '--data', mate, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'error', '--bootstrap', path.join(lone, 'contact')], {
      stdio: 'ignore',
    }),
  );
  const loneGateway = (await until(() => readTrimmed(path.join(lone, 'gateway')), 20_000)) as string;
  t.ok(
    await until(async () => (((await fetch(`${loneGateway}/api/v1/status`).then((r) => r.json()).catch(() => null)) as { peers?: unknown[] } | null)?.peers?.length ? true : undefined), 30_000),
    'the lone node found a peer',
  );
  const few = umbra('put', src, '--data', lone);
  t.equal(few.status, 0, `an insert into two nodes succeeds (${few.stderr})`);
  t.match(few.stdout.toString(), /^umbra:CHK@/);
  t.match(few.stderr.toString(), /warning: (\d+) of \1 blocks were stored on fewer nodes than asked \(as few as [12]\)/, 'with a warning on stderr');
  await settled();
  const fewJson = (await (await fetch(`${loneGateway}/api/v1/insert`, { method: 'POST', body: 'two nodes' })).json()) as { blocks: number; copies: { min: number; fewer: number } };
  t.ok(fewJson.copies.min >= 1 && fewJson.copies.min < 3 && fewJson.copies.fewer === fewJson.blocks, `201 reports the copies (${JSON.stringify(fewJson.copies)})`);
  const { uri: ghostKey } = await insertContent([new TextEncoder().encode('never inserted anywhere')], { putBlock: async () => {} });
  const ghost = umbra('get', ghostKey, '--data', dirs[3] as string);
  t.equal(ghost.status, 3, `content the network does not have exits 3 (${ghost.stderr})`);

  // An updatable document: newkey, publish version 1 and 2 through different nodes, read the newest.
  const keys = umbra('newkey', 'notes').stdout.toString();
  const insertKey = /insert key \(secret\): (\S+)/.exec(keys)?.[1] as string;
  const publicKey = /public key: +(\S+)/.exec(keys)?.[1] as string;
  t.match(insertKey, /^umbra:SSK-INSERT@[a-z2-7]+\/notes$/);
  t.match(publicKey, /^umbra:SSK@[a-z2-7]+\/notes$/);
  const v1 = path.join(base, 'v1.txt'), v2 = path.join(base, 'v2.txt');
  fs.writeFileSync(v1, 'first version\n');
  fs.writeFileSync(v2, 'second version\n');
  const p1 = umbra('put', v1, '--ssk', insertKey, '--version', '1', '--data', dirs[1] as string);
  t.equal(p1.status, 0, `publish version 1 (${p1.stderr})`);
  t.equal(p1.stdout.toString().trim(), publicKey, 'put --ssk prints the public key');
  t.equal(umbra('get', publicKey, '--data', dirs[6] as string).stdout.toString(), 'first version\n');
  t.equal(umbra('put', v2, '--ssk', insertKey, '--version', '2', '--data', dirs[2] as string).status, 0, 'publish version 2');
  t.equal(umbra('get', publicKey, '--data', dirs[7] as string).stdout.toString(), 'second version\n', 'the newest version wins');
  for (const i of [3, 5, 9]) {
    // through nodes placed differently relative to the document's key: wherever the older
    // version would land, the newer one held by the closest nodes refuses it
    const old = umbra('put', v1, '--ssk', insertKey, '--version', '1', '--data', dirs[i] as string);
    t.equal(old.status, 4, `an older version is refused (through node ${i})`);
    t.match(old.stderr.toString(), /newer version/);
  }
  t.equal(umbra('get', publicKey, '--data', dirs[6] as string).stdout.toString(), 'second version\n', 'still the newest');
  t.equal(umbra('get', insertKey, '--data', dirs[6] as string).status, 2, 'a secret insert key is not fetchable');
  t.equal(umbra('newkey', 'bad name').status, 2);
});
