// `umbra devnet`: a whole network of node processes on loopback, for trying Umbra on one machine.
// Node 1 starts first; every other node bootstraps from node 1's contact file. It prints each
// node's gateway URL, then one "ready" line once every node has links to the others (or to at
// least 5 of them), and stops them all on Ctrl-C/SIGTERM. The children also stop by themselves if
// this process dies (they watch their IPC channel), so no node is ever orphaned.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_V8_FLAGS } from './constants.ts';
import { parseSize } from './datastore/size.ts';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { type Command, parseFlags } from './flags.ts';

const STARTUP_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 6_000;

interface Child {
  index: number;
  dir: string;
  proc: ChildProcess;
  gateway?: string;
  exited: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(file: string, child: Child, deadline: number): Promise<string> {
  while (Date.now() < deadline) {
    if (child.exited) throw new CliError(EXIT_FAILURE, `node ${child.index} exited during start-up (see its log above)`);
    try {
      const text = fs.readFileSync(file, 'utf8').trim();
      if (text) return text;
    } catch {
      /* not yet */
    }
    await sleep(25);
  }
  throw new CliError(EXIT_FAILURE, `node ${child.index} did not write ${file} in time`);
}

async function status(url: string): Promise<{ peers: unknown[]; routingTable: number } | null> {
  try {
    const r = await fetch(`${url}/api/v1/status`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? ((await r.json()) as { peers: unknown[]; routingTable: number }) : null;
  } catch {
    return null;
  }
}

export const devnetCommand: Command = {
  summary: 'run a local network of nodes on loopback (Ctrl-C stops them all)',
  usage: `Usage: umbra devnet [--nodes N] [--dir DIR] [--store-size SIZE] [--log-level LEVEL]

Starts N node processes (default 5, at most 64) on 127.0.0.1 with free ports, bootstrapped together,
prints each node's gateway URL, then one line starting with "ready" once the network is linked.
Ctrl-C stops every node. Each node's data directory is DIR/node-<i> (DIR defaults to a new temporary
directory; give --dir to keep identities across runs). --store-size bounds each node's datastore
(default that of umbra node, 1GiB): a network keeps 3 copies of every block, plus a quarter more for
the erasure code, in 40 % of each store, so N nodes hold about N × SIZE / 9.4 of content (a 1 GiB
file wants 4GiB stores on 5 nodes). Node logs go to stderr, prefixed [node i].`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      nodes: { type: 'string' },
      dir: { type: 'string' },
      'log-level': { type: 'string' },
      'store-size': { type: 'string' },
    });
    const n = Number(values.nodes ?? 5);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new CliError(EXIT_USAGE, `--nodes: expected 1..64, got '${values.nodes}'`);
    const level = values['log-level'] ?? 'warn';
    const storeSize = values['store-size'];
    if (storeSize !== undefined) parseSize(storeSize, '--store-size'); // CliError EXIT_USAGE before any node starts
    const base = path.resolve(values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-devnet-')));
    fs.mkdirSync(base, { recursive: true });
    const script = process.argv[1] as string;
    const scriptArgs = [...NODE_V8_FLAGS, ...(script.endsWith('.ts') ? ['--import=tsx', script] : [script])];

    const children: Child[] = [];
    let stopping = false;
    const stopAll = async () => {
      stopping = true;
      for (const c of children) if (!c.exited) c.proc.kill('SIGTERM');
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (children.some((c) => !c.exited) && Date.now() < deadline) await sleep(25);
      for (const c of children) if (!c.exited) c.proc.kill('SIGKILL');
    };

    const launch = (i: number, bootstrap: string | null): Child => {
      const dir = path.join(base, `node-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      for (const f of ['gateway']) fs.rmSync(path.join(dir, f), { force: true });
      const args = [...scriptArgs, 'node', '--data', dir, '--listen', '127.0.0.1:0', '--gateway', '127.0.0.1:0', '--log-level', level];
      if (bootstrap) args.push('--bootstrap', bootstrap);
      if (storeSize !== undefined) args.push('--store-size', storeSize);
      const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      const child: Child = { index: i, dir, proc, exited: false };
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (s: string) => {
        for (const line of s.split('\n')) if (line) process.stderr.write(`[node ${i}] ${line}\n`);
      });
      proc.on('exit', (code, sig) => {
        child.exited = true;
        if (!stopping) process.stderr.write(`[node ${i}] exited unexpectedly (${sig ?? code})\n`);
      });
      children.push(child);
      return child;
    };

    const onSignal = () => void stopAll();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const first = launch(1, null);
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      await waitForFile(path.join(first.dir, 'gateway'), first, deadline);
      const contactFile = path.join(first.dir, 'contact');
      for (let i = 2; i <= n; i++) launch(i, contactFile);
      for (const c of children) {
        c.gateway = await waitForFile(path.join(c.dir, 'gateway'), c, deadline);
        process.stdout.write(`node ${c.index}: gateway ${c.gateway}  data ${c.dir}\n`);
      }
      const started = Date.now();
      const want = Math.min(n - 1, 5);
      const readyBy = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (stopping) return EXIT_OK;
        const sts = await Promise.all(children.map((c) => status(c.gateway as string)));
        if (sts.every((s) => s !== null && s.peers.length >= want)) break;
        if (Date.now() > readyBy) throw new CliError(EXIT_FAILURE, 'the network did not link up within 30 s');
        await sleep(50);
      }
      process.stdout.write(`ready: ${n} nodes linked in ${Date.now() - started} ms (Ctrl-C to stop)\n`);
      while (!stopping && children.some((c) => !c.exited)) await sleep(200);
      if (!stopping) await stopAll();
      return EXIT_OK;
    } catch (e) {
      await stopAll();
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
