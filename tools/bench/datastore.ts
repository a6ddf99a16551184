// `npm run bench:store`: throughput of the datastore (node/datastore/) against a raw append-only
// file written in the same run, on the same disk, with the same 32 KiB CHK blocks, and against
// lmdb and better-sqlite3 doing the same work (the "choose the engine by measurement").
// Rows: raw append (writeSync per block, one fsync at the end) vs the datastore's puts (verify,
// seal, append, group commit, flush at the end) and lmdb's and SQLite's puts (64-block
// transactions, one durability sync at the end, with and without the chkVerify a put must do);
// raw positioned reads from the page cache vs the datastore's gets (read, unseal, verify; lent with
// borrow, or an owned copy with get) and the two engines' gets (with and without chkVerify); puts
// under eviction and compaction; SSK puts and gets. lmdb and better-sqlite3 are
// optionalDependencies: if one failed to install, its rows are skipped with a note. Prints a
// Markdown table; --quick writes less. Figures are noisy on a shared 2-core machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chkEncode, chkVerify } from '../../crypto/chk.ts';
import { sskEncode, sskKeypair } from '../../crypto/ssk.ts';
import { open } from '../../node/datastore/datastore.ts';

const quick = process.argv.includes('--quick');
const N = quick ? 2048 : 8192; // 32 KiB blocks: 64 or 256 MiB per run
const BATCH = 64; // blocks per lmdb / SQLite write transaction
const WARM = 512; // blocks put (and got) in a throwaway store first, for the JIT
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-bench-store-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true })); // also after a throw

interface Row {
  name: string;
  value: number; // MB/s or ops/s
  base?: number;
  baseName?: string;
  unit: string;
  target?: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const time = (fn: () => void): number => {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
};
const timeAsync = async (fn: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await fn();
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
const rawRead = (check: boolean, reuse?: Uint8Array) => () => {
  for (let i = 0; i < N; i++) {
    const buf = reuse ?? Buffer.allocUnsafeSlow(blocks[0].block.length);
    fs.readSync(rawFd, buf, 0, buf.length, i * buf.length);
    if (check && !chkVerify(blocks[i].routingKey, buf)) throw new Error('raw block does not verify');
  }
};
rawRead(true)(); // warm-up: JIT and page cache
const rawGet = time(rawRead(false));
const rawGetVerify = time(rawRead(true));
const rawGetVerifyReused = time(rawRead(true, Buffer.allocUnsafeSlow(blocks[0].block.length)));
fs.closeSync(rawFd);
fs.rmSync(rawFile);
const vsAppend = { base: mb(bytes, rawPut), baseName: 'raw append', unit: 'MB/s' };
const vsPread = { base: mb(bytes, rawGet), baseName: 'raw pread', unit: 'MB/s' };

// 2. the datastore, no eviction (after a short warm-up on a throwaway store, for the JIT)
const warm = open(path.join(tmp, 'warm'), { maxBytes: 2 ** 30, storeFraction: 0 });
for (const b of blocks.slice(0, WARM)) warm.put('CHK', b.routingKey, b.block, 'cache');
warm.close();
fs.rmSync(path.join(tmp, 'warm'), { recursive: true });
const dsPutTimed = (dir: string, verified: boolean): number => {
  const store = open(path.join(tmp, dir), { maxBytes: 2 * bytes, storeFraction: 0 });
  const s = time(() => {
    for (const b of blocks) if (!store.put('CHK', b.routingKey, b.block, 'cache', { verified })) throw new Error('put refused');
    store.flush();
  });
  store.close();
  return s;
};
const dsPutVerified = dsPutTimed('ds-verified', true);
fs.rmSync(path.join(tmp, 'ds-verified'), { recursive: true });
const dsPut = dsPutTimed('ds', false);
const ds = open(path.join(tmp, 'ds'), { maxBytes: 2 * bytes, storeFraction: 0 });
let misses = 0;
const getAll = () => {
  for (const b of blocks) if (!ds.get('CHK', b.routingKey)) misses++;
};
const borrowAll = () => {
  for (const b of blocks) if (ds.borrow('CHK', b.routingKey, (block) => block.length) !== b.block.length) misses++;
};
getAll(); // warm-up, as for the raw reads
borrowAll();
const dsGet = time(getAll);
const dsBorrow = time(borrowAll);
if (misses) throw new Error(`${misses} gets missed`);
ds.close();
const putRows: Row[] = [
  { name: 'Umbra: CHK put, 32 KiB blocks (verify + seal + append, group commit, flush at end)', value: mb(bytes, dsPut), ...vsAppend, target: '≥ 0.4× raw append' },
  { name: 'Umbra: CHK put, caller verified (seal + append, group commit, flush at end)', value: mb(bytes, dsPutVerified), ...vsAppend },
];
const getRows: Row[] = [
  { name: 'Umbra: CHK get, page cache, lent (borrow: read + unseal + verify into the store\'s buffer, as a peer\'s GET is served)', value: mb(bytes, dsBorrow), ...vsPread, target: '≥ 1 GB/s' },
  { name: 'Umbra: CHK borrow vs its floor (pread into one buffer + the SHA-256 check any get must do)', value: mb(bytes, dsBorrow), base: mb(bytes, rawGetVerifyReused), baseName: 'pread (one buffer) + chkVerify', unit: 'MB/s' },
  { name: 'Umbra: CHK get, page cache, an owned copy (read + unseal + verify into a fresh buffer)', value: mb(bytes, dsGet), ...vsPread },
  { name: 'Umbra: CHK get vs its floor (pread into a fresh buffer + the SHA-256 check)', value: mb(bytes, dsGet), base: mb(bytes, rawGetVerify), baseName: 'pread + chkVerify', unit: 'MB/s' },
];

// 3. the same work on lmdb and better-sqlite3, when installed. Each engine stores blocks[from, to)
// in one transaction, makes everything durable in sync(), and gets a block as an owned copy.
interface Engine {
  putBatch(from: number, to: number): void;
  sync(): Promise<void>;
  get(routingKey: Uint8Array): Uint8Array | undefined;
  close(): Promise<void>;
}
interface EngineBench {
  name: string;
  config: string; // how it writes and syncs, for the row names
  make(dir: string): Engine;
}

const loadOptional = async (name: string): Promise<unknown> => {
  try {
    return await import(name);
  } catch (e) {
    notes.push(`${name}: not measured (${String((e as Error).message).split('\n')[0]}); it is an optionalDependency whose install may have failed.`);
    return undefined;
  }
};
const versionOf = (name: string): string => {
  try {
    const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

interface LmdbDb {
  transactionSync<T>(fn: () => T, flags?: number): T;
  putSync(key: Uint8Array, value: Uint8Array): boolean;
  getBinary(key: Uint8Array): Uint8Array | undefined;
  sync(done: (err?: Error | null) => void): void; // mdb_env_sync(force) on a worker thread
  close(): Promise<void>;
}
interface LmdbModule {
  open(options: { path: string; encoding: 'binary'; keyEncoding: 'binary'; mapSize: number }): LmdbDb;
  TransactionFlags: { ABORTABLE: number; SYNCHRONOUS_COMMIT: number; NO_SYNC_FLUSH: number };
}
const lmdbBench = (m: LmdbModule): EngineBench => {
  // Commit each batch without waiting for its flush (NO_SYNC_FLUSH; lmdb's overlappingSync, the
  // default on Linux, keeps that crash-safe), then one forced env sync at the end: the same
  // durability point as the datastore's flush. (Default transactionSync flags fsync every batch.)
  const { ABORTABLE, SYNCHRONOUS_COMMIT, NO_SYNC_FLUSH } = m.TransactionFlags;
  const flags = ABORTABLE | SYNCHRONOUS_COMMIT | NO_SYNC_FLUSH;
  return {
    name: `lmdb ${versionOf('lmdb')}`,
    config: `${BATCH}-block transactionSync, NO_SYNC_FLUSH, env sync at end`,
    make: (dir) => {
      const db = m.open({ path: dir, encoding: 'binary', keyEncoding: 'binary', mapSize: 4 * bytes });
      return {
        putBatch: (from, to) =>
          db.transactionSync(() => {
            for (let i = from; i < to; i++) if (!db.putSync(blocks[i].routingKey, blocks[i].block)) throw new Error('lmdb put failed');
          }, flags),
        sync: () => new Promise<void>((resolve, reject) => db.sync((err) => (err ? reject(err) : resolve()))),
        get: (key) => db.getBinary(key),
        close: () => db.close(),
      };
    },
  };
};

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  pluck(): SqliteStatement;
}
interface SqliteDb {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare(source: string): SqliteStatement;
  transaction(fn: (from: number, to: number) => void): (from: number, to: number) => void;
  close(): void;
}
type SqliteModule = { default: new (file: string) => SqliteDb };
const sqliteBench = (m: SqliteModule): EngineBench => {
  // WAL with synchronous=NORMAL: commits do not fsync (crash-safe, the last ones may be lost);
  // checkpoints sync the WAL and the database. The final TRUNCATE checkpoint is the durability
  // point, like the datastore's flush. A rowid table with the routing key as a unique BLOB key.
  // Tuned for 32 KiB values: 16 KiB pages (a shorter overflow chain than the default 4 KiB; about
  // 1.5× the put speed here) and reads through mmap (about 1.5× the get speed here).
  const probe = new m.default(':memory:');
  const sqliteVersion = String(probe.prepare('SELECT sqlite_version()').pluck().get());
  probe.close();
  return {
    name: `better-sqlite3 ${versionOf('better-sqlite3')}`,
    config: `SQLite ${sqliteVersion}, WAL, synchronous=NORMAL, 16 KiB pages, mmap, ${BATCH}-block transactions, wal_checkpoint(TRUNCATE) at end`,
    make: (dir) => {
      fs.mkdirSync(dir);
      const db = new m.default(path.join(dir, 'blocks.sqlite'));
      db.pragma('page_size = 16384'); // before the first write
      db.pragma(`mmap_size = ${4 * bytes}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE blocks (k BLOB PRIMARY KEY, v BLOB NOT NULL)');
      const insert = db.prepare('INSERT INTO blocks (k, v) VALUES (?, ?)');
      const select = db.prepare('SELECT v FROM blocks WHERE k = ?').pluck();
      const batch = db.transaction((from, to) => {
        for (let i = from; i < to; i++) insert.run(blocks[i].routingKey, blocks[i].block);
      });
      return {
        putBatch: batch,
        sync: async () => {
          const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
          if (r.busy !== 0 || r.log !== 0) throw new Error(`checkpoint incomplete: ${JSON.stringify(r)}`);
        },
        get: (key) => select.get(key) as Uint8Array | undefined,
        close: async () => db.close(),
      };
    },
  };
};

const engineRows = async (e: EngineBench): Promise<void> => {
  process.stderr.write(`${e.name}…\n`);
  const putAll = async (db: Engine, check: boolean, count: number): Promise<void> => {
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(from + BATCH, count);
      if (check) for (let i = from; i < to; i++) if (!chkVerify(blocks[i].routingKey, blocks[i].block)) throw new Error('block does not verify');
      db.putBatch(from, to);
    }
    await db.sync();
  };
  const getAll = (db: Engine, check: boolean, count: number) => () => {
    for (let i = 0; i < count; i++) {
      const got = db.get(blocks[i].routingKey);
      if (!got || got.length !== blocks[i].block.length) throw new Error(`${e.name}: get ${i} missed`);
      if (check && !chkVerify(blocks[i].routingKey, got)) throw new Error(`${e.name}: block ${i} does not verify`);
    }
  };
  // Timed from an open, empty store to a durable one, like the datastore's rows.
  const putTimed = async (dir: string, check: boolean, count: number): Promise<{ db: Engine; s: number }> => {
    const db = e.make(path.join(tmp, dir));
    const s = await timeAsync(() => putAll(db, check, count));
    return { db, s };
  };
  const warmUp = await putTimed('engine-warm', true, WARM);
  getAll(warmUp.db, true, WARM)();
  await warmUp.db.close();
  fs.rmSync(path.join(tmp, 'engine-warm'), { recursive: true });

  const plain = await putTimed('engine-plain', false, N);
  await plain.db.close();
  fs.rmSync(path.join(tmp, 'engine-plain'), { recursive: true });
  const checked = await putTimed('engine', true, N);
  getAll(checked.db, true, N)(); // warm-up, as for the raw reads
  const get = time(getAll(checked.db, false, N));
  const getChecked = time(getAll(checked.db, true, N));
  await checked.db.close();
  fs.rmSync(path.join(tmp, 'engine'), { recursive: true });
  putRows.push({ name: `${e.name}: CHK put + chkVerify (${e.config})`, value: mb(bytes, checked.s), ...vsAppend });
  putRows.push({ name: `${e.name}: CHK put, no check (same)`, value: mb(bytes, plain.s), ...vsAppend });
  getRows.push({ name: `${e.name}: CHK get, page cache + chkVerify (a copy of the value)`, value: mb(bytes, getChecked), ...vsPread });
  getRows.push({ name: `${e.name}: CHK get, page cache, no check`, value: mb(bytes, get), ...vsPread });
};

const measure = async (name: string, bench: () => EngineBench): Promise<void> => {
  try {
    await engineRows(bench());
  } catch (e) {
    notes.push(`${name}: failed during the run (${String((e as Error).message).split('\n')[0]}); its rows are missing.`);
  }
};
const lmdb = (await loadOptional('lmdb')) as LmdbModule | undefined;
if (lmdb) await measure('lmdb', () => lmdbBench(lmdb));
const sqlite = (await loadOptional('better-sqlite3')) as SqliteModule | undefined;
if (sqlite) await measure('better-sqlite3', () => sqliteBench(sqlite));
rows.push(...putRows, ...getRows);

// 4. reopen (index rebuild by scanning the segments)
let reopened = 0;
const reopen = time(() => {
  const again = open(path.join(tmp, 'ds'), { maxBytes: 2 * bytes, storeFraction: 0 });
  reopened = again.stats().cache.count;
  again.close();
});
fs.rmSync(path.join(tmp, 'ds'), { recursive: true });
rows.push({ name: `Umbra: reopen, rebuild index of ${reopened} blocks (${(bytes / 2 ** 20).toFixed(0)} MiB)`, value: reopened / reopen, unit: 'blocks/s' });

// 5. under eviction and compaction: a store a quarter of the data written
const small = open(path.join(tmp, 'small'), { maxBytes: Math.floor(bytes / 4), segmentBytes: 4 * 2 ** 20 });
const smallPut = time(() => {
  for (const b of blocks) small.put('CHK', b.routingKey, b.block, 'cache');
  small.flush();
});
const st = small.stats();
small.close();
rows.push({ name: `Umbra: CHK put with eviction + compaction (${st.evictions} evicted, ${st.compactions} compactions)`, value: mb(bytes, smallPut), ...vsAppend });

// 6. SSK blocks (1178 bytes; signature verification dominates)
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
rows.push({ name: 'Umbra: SSK put (verify signature, seal, append)', value: M / sPut, unit: 'ops/s' });
rows.push({ name: 'Umbra: SSK get (read, unseal, verify signature)', value: M / sGet, unit: 'ops/s' });

fs.rmSync(tmp, { recursive: true, force: true });

const fmt = (n: number | undefined): string => (n === undefined ? '' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
console.log(`\nDatastore, ${N} × 32 KiB CHK blocks (${(bytes / 2 ** 20).toFixed(0)} MiB), node ${process.version}, ${os.cpus().length} cores, ${os.tmpdir()}\n`);
console.log('| operation | measured | baseline | measured ÷ baseline | target |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) {
  const base = r.base === undefined ? '' : `${fmt(r.base)} ${r.unit} (${r.baseName})`;
  const ratio = r.base === undefined ? '' : `${(r.value / r.base).toFixed(2)}×`;
  console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} | ${r.target ?? ''} |`);
}
for (const n of notes) console.log(`\n${n}`);
