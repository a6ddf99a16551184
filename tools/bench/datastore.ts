// `npm run bench:store`: throughput of the datastore (node/datastore/) against a raw append-only
// file written in the same run, on the same disk, with the same 32 KiB CHK blocks. Rows: raw append
// (writeSync per block, one fsync at the end) vs the datastore's puts (verify, seal, append, group
// commit, flush at the end); raw positioned reads from the page cache vs the datastore's gets (read,
// unseal, verify); puts under eviction and compaction; SSK puts and gets. Optional rows for lmdb and
// better-sqlite3 run only if those packages happen to be installed (they are not dependencies).
// Prints a Markdown table; --quick writes less. Figures are noisy on a shared 2-core machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chkEncode, chkVerify } from '../../crypto/chk.ts';
import { sskEncode, sskKeypair } from '../../crypto/ssk.ts';
import { open } from '../../node/datastore/datastore.ts';

const quick = process.argv.includes('--quick');
const N = quick ? 2048 : 8192; // 32 KiB blocks: 64 or 256 MiB per run
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-bench-store-'));

interface Row {
  name: string;
  umbra: number; // MB/s or ops/s
  base?: number;
  baseName?: string;
  unit: string;
  target?: string;
}
const rows: Row[] = [];
const time = (fn: () => void): number => {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
};
const mb = (bytes: number, s: number): number => bytes / 1e6 / s;

process.stderr.write(`making ${N} CHK blocks…\n`);
const blocks = Array.from({ length: N }, () => chkEncode(globalThis.crypto.getRandomValues(new Uint8Array(32768)).subarray(0, 32000)));
const bytes = N * blocks[0].block.length;

// 1. raw append-only file
const rawFile = path.join(tmp, 'raw.dat');
const rawFd = fs.openSync(rawFile, 'w+');
const rawPut = time(() => {
  let off = 0;
  for (const b of blocks) off += fs.writeSync(rawFd, b.block, 0, b.block.length, off);
  fs.fsyncSync(rawFd);
});
const rawRead = (check: boolean) => () => {
  for (let i = 0; i < N; i++) {
    const buf = Buffer.allocUnsafeSlow(blocks[0].block.length);
    fs.readSync(rawFd, buf, 0, buf.length, i * buf.length);
    if (check && !chkVerify(blocks[i].routingKey, buf)) throw new Error('raw block does not verify');
  }
};
rawRead(true)(); // warm-up: JIT and page cache
const rawGet = time(rawRead(false));
const rawGetVerify = time(rawRead(true));
fs.closeSync(rawFd);

// 2. the datastore, no eviction (after a short warm-up on a throwaway store, for the JIT)
const warm = open(path.join(tmp, 'warm'), { maxBytes: 2 ** 30, storeFraction: 0 });
for (const b of blocks.slice(0, 512)) warm.put('CHK', b.routingKey, b.block, 'cache');
warm.close();
fs.rmSync(path.join(tmp, 'warm'), { recursive: true });
const ds = open(path.join(tmp, 'ds'), { maxBytes: 2 * bytes, storeFraction: 0 });
const dsPut = time(() => {
  for (const b of blocks) if (!ds.put('CHK', b.routingKey, b.block, 'cache')) throw new Error('put refused');
  ds.flush();
});
let misses = 0;
const getAll = () => {
  for (const b of blocks) if (!ds.get('CHK', b.routingKey)) misses++;
};
getAll(); // warm-up, as for the raw reads
const dsGet = time(getAll);
if (misses) throw new Error(`${misses} gets missed`);
ds.close();
rows.push({ name: 'CHK put, 32 KiB blocks (batched, group commit)', umbra: mb(bytes, dsPut), base: mb(bytes, rawPut), baseName: 'raw append', unit: 'MB/s', target: '≥ 0.4× raw append' });
rows.push({ name: 'CHK get, page cache (read + unseal + verify)', umbra: mb(bytes, dsGet), base: mb(bytes, rawGet), baseName: 'raw pread', unit: 'MB/s', target: '≥ 1 GB/s' });
rows.push({ name: 'CHK get vs its floor (pread + the SHA-256 check any get must do)', umbra: mb(bytes, dsGet), base: mb(bytes, rawGetVerify), baseName: 'pread + chkVerify', unit: 'MB/s' });

// 3. reopen (index rebuild by scanning the segments)
let reopened = 0;
const reopen = time(() => {
  const again = open(path.join(tmp, 'ds'), { maxBytes: 2 * bytes, storeFraction: 0 });
  reopened = again.stats().cache.count;
  again.close();
});
rows.push({ name: `reopen: rebuild index of ${reopened} blocks (${(bytes / 2 ** 20).toFixed(0)} MiB)`, umbra: reopened / reopen, unit: 'blocks/s' });

// 4. under eviction and compaction: a store a quarter of the data written
const small = open(path.join(tmp, 'small'), { maxBytes: Math.floor(bytes / 4), segmentBytes: 4 * 2 ** 20 });
const smallPut = time(() => {
  for (const b of blocks) small.put('CHK', b.routingKey, b.block, 'cache');
  small.flush();
});
const st = small.stats();
small.close();
rows.push({ name: `CHK put with eviction + compaction (${st.evictions} evicted, ${st.compactions} compactions)`, umbra: mb(bytes, smallPut), base: mb(bytes, rawPut), baseName: 'raw append', unit: 'MB/s' });

// 5. SSK blocks (1178 bytes; signature verification dominates)
const kp = sskKeypair();
const M = quick ? 500 : 2000;
const ssks = Array.from({ length: M }, (_, i) => sskEncode({ seed: kp.seed, cryptoKey: kp.cryptoKey, docName: `doc-${i}`, version: 1, payload: new Uint8Array(100) }));
const sds = open(path.join(tmp, 'ssk'), { maxBytes: 2 ** 30 });
const sPut = time(() => {
  for (const s of ssks) sds.put('SSK', s.routingKey, s.block, 'store');
  sds.flush();
});
const sGet = time(() => {
  for (const s of ssks) if (!sds.get('SSK', s.routingKey)) throw new Error('ssk get missed');
});
sds.close();
rows.push({ name: 'SSK put (verify signature, seal, append)', umbra: M / sPut, unit: 'ops/s' });
rows.push({ name: 'SSK get (read, unseal, verify signature)', umbra: M / sGet, unit: 'ops/s' });

fs.rmSync(tmp, { recursive: true, force: true });

const fmt = (n: number | undefined): string => (n === undefined ? '' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
console.log(`\nDatastore, ${N} × 32 KiB CHK blocks (${(bytes / 2 ** 20).toFixed(0)} MiB), node ${process.version}, ${os.cpus().length} cores, ${os.tmpdir()}\n`);
console.log('| operation | Umbra | baseline | Umbra ÷ baseline | target |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) {
  const base = r.base === undefined ? '' : `${fmt(r.base)} ${r.unit} (${r.baseName})`;
  const ratio = r.base === undefined ? '' : `${(r.umbra / r.base).toFixed(2)}×`;
  console.log(`| ${r.name} | ${fmt(r.umbra)} ${r.unit} | ${base} | ${ratio} | ${r.target ?? ''} |`);
}
