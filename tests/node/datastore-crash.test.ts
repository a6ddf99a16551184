// The datastore survives SIGKILL during heavy writes: a child process (datastore-crash-child.ts)
// puts blocks in a tight loop (with eviction, compaction and group commits going on), the test
// kills it at a random moment, reopens the store and checks that every block get() returns is
// exactly the block that was put, that the store stays within its bounds and is usable (put/get),
// and that a second reopen agrees block for block (no evicted block comes back). Repeated on the same store with different kill times, so later
// rounds also start from a store that was itself recovered from a crash.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { sskVersion } from '../../crypto/ssk.ts';
import { open } from '../../node/datastore/datastore.ts';
import { CRASH_MAX_PUTS, CRASH_STORE, SSK_DOCS } from './datastore-crash-child.ts';
import { chkBlock, sskBlock } from './datastore-fixtures.ts';

const ROUNDS = 4;
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'datastore-crash-child.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-crash-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Run the writer, SIGKILL it `killMs` after it is ready; resolves with the last progress it printed. */
function runAndKill(seed: number, killMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import=tsx', child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => p.kill('SIGKILL'), 30_000); // never hang the suite
    p.stdout.on('data', (d) => {
      out += d;
      if (!timer && out.startsWith('ready\n')) timer = setTimeout(() => p.kill('SIGKILL'), killMs);
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code ?? signal} before the kill`));
      const lines = out.trim().split('\n');
      resolve(Number(lines.length > 1 ? lines[lines.length - 1] : -1));
    });
  });
}

const progress: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  t.test(`round ${round}: SIGKILL during writes, reopen, every served block exact`, async (t) => {
    const killMs = 250 + Math.floor(Math.random() * 1250);
    const last = await runAndKill(round, killMs);
    t.ok(last >= 0, `writer made progress before the kill at ${killMs} ms (last ${last})`);
    progress[round] = last;
    const s = open(dir, CRASH_STORE);
    const st = s.stats();
    t.ok(st.store.bytes <= st.store.budget && st.cache.bytes <= st.cache.budget, 'within budgets');
    let served = 0, wrong = 0;
    const servedIds: Array<[number, number]> = []; // (seed, i) of every CHK block served
    const candidates = (each: (seed: number, i: number) => void) => {
      for (let seed = 0; seed <= round; seed++) {
        const upTo = Math.min(CRASH_MAX_PUTS, progress[seed] + 200); // a few puts after the last progress line
        for (let i = 0; i < upTo; i++) each(seed, i);
      }
    };
    candidates((seed, i) => {
      const c = chkBlock(seed, i);
      const got = s.get('CHK', c.routingKey);
      if (got === undefined) return;
      served++;
      servedIds.push([seed, i]);
      if (!Buffer.from(got).equals(c.block)) wrong++;
    });
    for (let doc = 0; doc < SSK_DOCS; doc++) {
      const key = sskBlock(doc, 0).routingKey;
      const got = s.get('SSK', key);
      if (got === undefined) continue;
      served++;
      if (!Buffer.from(got).equals(sskBlock(doc, sskVersion(got)).block)) wrong++;
    }
    t.equal(wrong, 0, `no block served wrong (${served} served)`);
    t.equal(s.stats().corrupt, 0, 'SIGKILL leaves no whole-looking corrupt record behind');
    t.ok(served > 0, 'blocks survived the crash');
    const held = s.stats().store.count + s.stats().cache.count;
    t.ok(served <= held, 'every served block was in the index');
    const fresh = chkBlock(1000 + round, 1);
    t.ok(s.put('CHK', fresh.routingKey, fresh.block, 'store'), 'put after recovery');
    t.ok(Buffer.from(s.get('CHK', fresh.routingKey)!).equals(fresh.block), 'get after recovery');
    const countNow = s.stats().store.count + s.stats().cache.count;
    const stillHeld = servedIds.filter(([seed, i]) => s.has('CHK', chkBlock(seed, i).routingKey)); // the put may have evicted one
    t.ok(stillHeld.length >= servedIds.length - 1);
    s.close();
    const again = open(dir, CRASH_STORE);
    t.equal(again.stats().store.count + again.stats().cache.count, countNow, 'a clean reopen agrees');
    t.equal(again.stats().tornTails, 0, 'a clean close leaves no torn tail');
    t.equal(again.stats().evictions, 0, 'and needs no eviction: the budgets held at close');
    const heldAgain: Array<[number, number]> = [];
    candidates((seed, i) => {
      if (again.has('CHK', chkBlock(seed, i).routingKey)) heldAgain.push([seed, i]);
    });
    t.same(heldAgain, stillHeld, 'the same blocks: none evicted comes back');
    again.close();
  });
}
