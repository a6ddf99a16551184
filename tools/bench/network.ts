// `npm run bench:net`: end-to-end transfer speed of a loopback network of real node processes (the
// bundled CLI, dist/umbra.mjs, started as `umbra devnet` does). Measures: a --size MiB insert of
// random bytes through node 1's gateway, fetching it back through node 6 (cold path) and again
// through another node (warm caches), both verified by SHA-256; the median of 5 cold 1 MiB fetches
// through node 3; the CPU seconds each node spent during the insert and the fetch (/proc/PID/stat)
// and the fetching node's RSS. Prints a Markdown table, a machine line and one JSON line.
// With --cpu-prof DIR every node runs under `node --cpu-prof` and, after they stop, the self time
// per function during the insert (or --prof-phase fetch|all) is summed over all nodes and printed.
// Flags: --nodes N (10) --size MiB (100) --cpu-prof DIR --prof-phase insert|fetch|all --keep, and
// --node-arg ARG (repeatable) passed to every node's `node` (e.g. --perf-basic-prof for `perf record`),
// --warmup MiB (insert and fetch back that much before the timed insert: a network that has run a
// while, its JIT warm) and --store-size SIZE for every node (the default 1GiB holds about a 1 GiB
// file's 3 copies across 10 nodes only if the keys spread evenly; a fuller store evicts).
// Figures are noisy on a shared 2-core machine; nothing here asserts a speed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256Hasher } from '../../crypto/hasher.ts';
import { toHex } from '../../crypto/bytes.ts';
import { randomBytes } from '../../crypto/random.ts';
import { NODE_V8_FLAGS } from '../../node/constants.ts';
import { profileReport, profilesIn, type Window } from './cpuprofile.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist/umbra.mjs');
const MiB = 1 << 20;
const STARTUP_MS = 20_000;
const LINK_MS = 30_000;

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    size: { type: 'string', default: '100' },
    'cpu-prof': { type: 'string' },
    'prof-phase': { type: 'string', default: 'insert' },
    keep: { type: 'boolean', default: false },
    'node-arg': { type: 'string', multiple: true, default: [] },
    warmup: { type: 'string', default: '0' },
    'store-size': { type: 'string' },
  },
});
const N = Number(flags.nodes);
const SIZE_MIB = Number(flags.size);
const PROF_DIR = flags['cpu-prof'] ? path.resolve(flags['cpu-prof']) : undefined;
const PHASE = flags['prof-phase'] as string;
const WARMUP_MIB = Number(flags.warmup);
if (!Number.isInteger(N) || N < 1 || N > 64) throw new RangeError(`--nodes: expected 1..64, got '${flags.nodes}'`);
if (!(SIZE_MIB > 0 && SIZE_MIB <= 4096)) throw new RangeError(`--size: expected MiB in (0, 4096], got '${flags.size}'`);
if (!['insert', 'fetch', 'all'].includes(PHASE)) throw new RangeError(`--prof-phase: insert, fetch or all`);
const TRANSFER_MS = 60_000 + SIZE_MIB * 5_000; // a bound, not a target
const STOP_MS = PROF_DIR ? 30_000 : 6_000; // writing a profile takes a moment

interface Node {
  i: number;
  dir: string;
  proc: ChildProcess;
  gateway: string;
  exited: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as V8's profiles
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function waitFor<T>(f: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const readTrimmed = (file: string): string | undefined => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined);
const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
  } catch {
    return 100; // the usual value on Linux
  }
})();

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, after the comm). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ---- the network --------------------------------------------------------------------------------

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-bench-net-'));
const nodes: Node[] = [];

function launch(i: number, bootstrap: string | undefined): Node {
  const dir = path.join(base, `node-${i}`);
  fs.mkdirSync(dir);
  const nodeFlags: string[] = [...NODE_V8_FLAGS, ...(flags['node-arg'] as string[])]; // as devnet starts them
  if (PROF_DIR) {
    const pd = path.join(PROF_DIR, `node-${i}`);
    fs.mkdirSync(pd, { recursive: true });
    for (const f of profilesIn(pd)) fs.rmSync(f); // only this run's profile may be summed
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${pd}`);
  }
  const args = [...nodeFlags, DIST, 'node', '--data', dir, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', 'warn'];
  if (flags['store-size']) args.push('--store-size', flags['store-size']);
  if (bootstrap) args.push('--bootstrap', bootstrap);
  // The IPC channel makes a node stop by itself if this process dies, so none is ever orphaned.
  // A node prints nothing on stdout; V8 flags given with --node-arg (--trace-gc, …) may: kept in its directory.
  const out = fs.openSync(path.join(dir, 'stdout.log'), 'w');
  const proc = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe', 'ipc'] });
  fs.closeSync(out);
  const node: Node = { i, dir, proc, gateway: '', exited: false };
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    for (const line of s.split('\n')) if (line) process.stderr.write(`[node ${i}] ${line}\n`);
  });
  proc.on('exit', () => (node.exited = true));
  nodes.push(node);
  return node;
}

async function gatewayOf(n: Node): Promise<string> {
  return waitFor(() => {
    if (n.exited) throw new Error(`node ${n.i} exited during start-up`);
    return readTrimmed(path.join(n.dir, 'gateway'));
  }, STARTUP_MS, `node ${n.i}'s gateway file`);
}

async function peers(gw: string): Promise<number> {
  try {
    const r = await fetch(`${gw}/api/v1/status`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as { peers: unknown[] }).peers.length : -1;
  } catch {
    return -1;
  }
}

/** Link cells shed under backpressure and routing timeouts, summed over the nodes (a healthy run has none). */
async function trouble(): Promise<{ shed: number; timeouts: number; badBlocks: number; cellsIn: number; evictions: number }> {
  const out = { shed: 0, timeouts: 0, badBlocks: 0, cellsIn: 0, evictions: 0 };
  for (const n of nodes) {
    try {
      const r = await fetch(`${n.gateway}/api/v1/status`, { signal: AbortSignal.timeout(2000) });
      const st = (await r.json()) as {
        peers: { shed: number; cellsIn: number }[];
        routing: { timeouts: number; badBlocks: number };
        store: { evictions: number };
      };
      out.evictions += st.store.evictions;
      for (const p of st.peers) {
        out.shed += p.shed;
        out.cellsIn += p.cellsIn;
      }
      out.timeouts += st.routing.timeouts;
      out.badBlocks += st.routing.badBlocks;
    } catch {
      /* a node that does not answer shows in the other figures */
    }
  }
  return out;
}

async function stopAll(): Promise<void> {
  for (const n of nodes) if (!n.exited) n.proc.kill('SIGTERM');
  const end = Date.now() + STOP_MS;
  while (nodes.some((n) => !n.exited) && Date.now() < end) await sleep(25);
  for (const n of nodes) {
    if (!n.exited) {
      process.stderr.write(`node ${n.i} did not stop within ${STOP_MS} ms: SIGKILL\n`);
      n.proc.kill('SIGKILL');
    }
  }
  await waitFor(() => (nodes.every((n) => n.exited) ? true : undefined), 5_000, 'killed nodes to exit').catch(() => {});
}

// ---- transfers ----------------------------------------------------------------------------------

/** Streams `bytes` random bytes (1 MiB chunks) into node gw's insert endpoint. */
function insert(gw: string, bytes: number, name: string): Promise<{ key: string; ms: number; sha: string }> {
  const hash = sha256Hasher();
  async function* body() {
    for (let left = bytes; left > 0; left -= MiB) {
      const chunk = randomBytes(Math.min(MiB, left));
      hash.update(chunk);
      yield chunk;
    }
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw}/api/v1/insert?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
      signal: AbortSignal.timeout(TRANSFER_MS),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.on('error', reject);
      res.on('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode !== 201) return reject(new Error(`insert: HTTP ${res.statusCode} ${text.trim()}`));
        resolve({ key: (JSON.parse(text) as { key: string }).key, ms, sha: toHex(hash.digest()) });
      });
    });
    Readable.from(body()).on('error', reject).pipe(req);
  });
}

/** Fetches `key` through node gw, streaming and hashing the body. */
function fetchKey(gw: string, key: string): Promise<{ ms: number; sha: string; bytes: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${gw}/${key}`, { signal: AbortSignal.timeout(TRANSFER_MS) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`fetch through ${gw}: HTTP ${res.statusCode}`));
      }
      const hash = sha256Hasher();
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      res.on('error', reject);
      res.on('end', () => resolve({ ms: performance.now() - t0, sha: toHex(hash.digest()), bytes }));
    });
    req.on('error', reject);
  });
}

function verify(got: { sha: string; bytes: number }, want: { sha: string }, bytes: number, what: string): void {
  if (got.bytes !== bytes || got.sha !== want.sha) throw new Error(`${what}: content differs (${got.bytes} bytes, sha ${got.sha})`);
}

// ---- the run ------------------------------------------------------------------------------------

const at = (n: number) => nodes[n - 1] as Node;
const cpuAll = () => nodes.map((n) => cpuSeconds(n.proc.pid as number));
const diff = (a: number[], b: number[]) => b.map((x, k) => x - (a[k] as number));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const rate = (ms: number) => SIZE_MIB / (ms / 1000);

async function run(): Promise<void> {
  if (!fs.existsSync(DIST)) {
    process.stderr.write(`${path.relative(ROOT, DIST)} is missing: building it\n`);
    execFileSync(process.execPath, ['tools/build.mjs'], { cwd: ROOT, stdio: 'inherit', timeout: 120_000 });
  }
  const FETCH = N >= 6 ? 6 : Math.floor(N / 2) + 1;
  const WARM = [N, N - 1, 2, 1].find((k) => k >= 1 && k !== FETCH && k !== 1) ?? FETCH;
  const SMALL = Math.min(3, N);
  const bytes = Math.round(SIZE_MIB * MiB);

  const t0 = Date.now();
  const first = launch(1, undefined);
  first.gateway = await gatewayOf(first);
  for (let i = 2; i <= N; i++) launch(i, path.join(first.dir, 'contact'));
  for (const n of nodes.slice(1)) n.gateway = await gatewayOf(n);
  const want = Math.min(N - 1, 5);
  await waitFor(async () => ((await Promise.all(nodes.map((n) => peers(n.gateway)))).every((p) => p >= want) ? true : undefined), LINK_MS,
    `every node to have ${want} links`);
  process.stderr.write(`${N} nodes linked in ${Date.now() - t0} ms\n`);
  if (WARMUP_MIB > 0) {
    const w = await insert(first.gateway, Math.round(WARMUP_MIB * MiB), 'warmup.bin');
    verify(await fetchKey(at(FETCH).gateway, w.key), w, Math.round(WARMUP_MIB * MiB), 'warm-up fetch');
    process.stderr.write(`warm-up: ${WARMUP_MIB} MiB inserted at ${(WARMUP_MIB / (w.ms / 1000)).toFixed(1)} MiB/s and fetched back\n`);
  }
  process.stderr.write(`inserting ${SIZE_MIB} MiB through node 1…\n`);

  const windows: Record<string, Window> = {};
  const before = await trouble();
  const c0 = cpuAll();
  const self0 = process.cpuUsage();
  windows.insert = { fromUs: nowUs(), toUs: 0 };
  const ins = await insert(first.gateway, bytes, 'bench.bin');
  windows.insert.toUs = nowUs();
  const selfInsert = process.cpuUsage(self0);
  const c1 = cpuAll();
  const afterInsert = await trouble();
  const insertCells = afterInsert.cellsIn - before.cellsIn;
  process.stderr.write(`inserted in ${(ins.ms / 1000).toFixed(1)} s (cells shed ${afterInsert.shed}, routing timeouts ${afterInsert.timeouts}, ` +
    `blocks evicted from full stores ${afterInsert.evictions}, ` +
    `${(insertCells / Math.ceil(bytes / 32768)).toFixed(0)} cells received per 32 KiB of content); fetching through node ${FETCH}…\n`);

  const fetchPid = at(FETCH).proc.pid as number;
  const rssBefore = rssMB(fetchPid);
  windows.fetch = { fromUs: nowUs(), toUs: 0 };
  const cold = await fetchKey(at(FETCH).gateway, ins.key);
  windows.fetch.toUs = nowUs();
  verify(cold, ins, bytes, `fetch through node ${FETCH}`);
  const c2 = cpuAll();
  const rssAfter = rssMB(fetchPid);
  const warm = await fetchKey(at(WARM).gateway, ins.key);
  verify(warm, ins, bytes, `fetch through node ${WARM}`);
  const c3 = cpuAll();

  const smallMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const s = await insert(first.gateway, MiB, `small-${k}.bin`);
    const f = await fetchKey(at(SMALL).gateway, s.key);
    verify(f, s, MiB, `1 MiB fetch through node ${SMALL}`);
    smallMs.push(f.ms);
  }

  const cpuIns = diff(c0, c1);
  const cpuFetch = diff(c1, c2);
  const cpuWarm = diff(c2, c3);
  const others = cpuIns.slice(1);
  const maxOther = others.length ? Math.max(...others) : 0;
  const figures = {
    nodes: N,
    sizeMiB: SIZE_MIB,
    insertMiBs: rate(ins.ms),
    insertS: ins.ms / 1000,
    fetchNode: FETCH,
    fetchMiBs: rate(cold.ms),
    fetchS: cold.ms / 1000,
    warmNode: WARM,
    warmMiBs: rate(warm.ms),
    smallNode: SMALL,
    smallFetchMsMedian: median(smallMs),
    smallFetchMs: smallMs,
    cpuInsertTotalS: sum(cpuIns),
    cpuInsertNode1S: cpuIns[0],
    cpuInsertMaxOtherS: maxOther,
    cpuInsertMaxOtherNode: others.indexOf(maxOther) + 2,
    cpuInsertPerNodeS: cpuIns,
    cpuInsertBenchClientS: (selfInsert.user + selfInsert.system) / 1e6,
    cpuFetchTotalS: sum(cpuFetch),
    cpuFetchFetchingNodeS: cpuFetch[FETCH - 1],
    cpuFetchPerNodeS: cpuFetch,
    cpuWarmFetchTotalS: sum(cpuWarm),
    rssFetchNodeBeforeMB: rssBefore,
    rssFetchNodeAfterMB: rssAfter,
  };
  const f2 = (x: number) => x.toFixed(2);
  const f1 = (x: number) => x.toFixed(1);
  const cpuModel = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  console.log(`\n## Umbra network transfer: ${SIZE_MIB} MiB, ${N} node processes on loopback${PROF_DIR ? ' (under --cpu-prof)' : ''}\n`);
  console.log('| figure | value |\n|---|---:|');
  console.log(`| insert ${SIZE_MIB} MiB through node 1 | ${f1(figures.insertMiBs)} MiB/s (${f1(figures.insertS)} s) |`);
  console.log(`| fetch through node ${FETCH} (cold path) | ${f1(figures.fetchMiBs)} MiB/s (${f1(figures.fetchS)} s) |`);
  console.log(`| fetch again through node ${WARM} (warm caches) | ${f1(figures.warmMiBs)} MiB/s (${f1(warm.ms / 1000)} s) |`);
  console.log(`| 1 MiB cold fetch through node ${SMALL}, median of 5 | ${f1(figures.smallFetchMsMedian)} ms (${smallMs.map((x) => x.toFixed(0)).join(', ')}) |`);
  console.log(`| CPU during insert: all nodes / node 1 / max other (node ${figures.cpuInsertMaxOtherNode}) | ${f2(figures.cpuInsertTotalS)} / ${f2(cpuIns[0] as number)} / ${f2(maxOther)} s |`);
  console.log(`| CPU during cold fetch: all nodes / node ${FETCH} | ${f2(figures.cpuFetchTotalS)} / ${f2(cpuFetch[FETCH - 1] as number)} s |`);
  console.log(`| CPU during warm fetch: all nodes | ${f2(figures.cpuWarmFetchTotalS)} s |`);
  console.log(`| RSS of node ${FETCH} before / after the fetch | ${f1(rssBefore)} / ${f1(rssAfter)} MB |`);
  console.log(`\ninsert CPU per node (s): ${cpuIns.map(f2).join(' ')}; this client: ${f2(figures.cpuInsertBenchClientS)}`);
  console.log(`fetch CPU per node (s): ${cpuFetch.map(f2).join(' ')}`);
  console.log(`machine: ${cpuModel}, ${os.cpus().length} cores, Node ${process.version} (CLK_TCK ${CLK_TCK})`);
  console.log(JSON.stringify(figures));

  await stopAll();
  if (PROF_DIR) {
    const dirs = nodes.map((n) => path.join(PROF_DIR, `node-${n.i}`));
    console.log(profileReport(dirs, ROOT, PHASE === 'all' ? undefined : { name: PHASE, ...(windows[PHASE] as Window) }));
  }
}

let cleaned: Promise<void> | undefined;
const cleanup = () =>
  (cleaned ??= stopAll().then(() => {
    if (flags.keep) process.stderr.write(`kept node data in ${base}\n`);
    else fs.rmSync(base, { recursive: true, force: true });
  }));
const onSignal = () => void cleanup().then(() => process.exit(130));
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
try {
  await run();
} catch (e) {
  process.stderr.write(`bench:net failed: ${(e as Error)?.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
