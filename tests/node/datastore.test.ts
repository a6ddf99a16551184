// The block stores: the on-disk datastore (node/datastore/) and the in-memory one
// (store/memory-store.ts) pass the same suite (round trips, SSK newest-wins, refusal of bad
// blocks, store/cache separation and per-role LRU eviction); then what only the disk has: reopen
// rebuilds the index, a flipped bit is never served, torn tails are cut, compaction bounds the
// files, no file holds a routing key in clear; and --store-size parsing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CHK_ENCODED_LEN } from '../../crypto/constants.ts';
import { open, LIVE_FRACTION } from '../../node/datastore/datastore.ts';
import { HEADER_LEN } from '../../node/datastore/record.ts';
import { listSegments, segmentPath } from '../../node/datastore/segments.ts';
import { formatSize, parseSize } from '../../node/datastore/size.ts';
import type { BlockStore } from '../../store/block-store.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import { chkBlock, sskBlock } from './datastore-fixtures.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-datastore-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `d${n++}`);
const REC = HEADER_LEN + CHK_ENCODED_LEN;
const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);

// A bound whose live budget holds exactly `perRole` CHK blocks in each role, for both stores.
const diskBound = (perRole: number) => Math.ceil((2 * perRole * CHK_ENCODED_LEN + 1) / LIVE_FRACTION);
const makers: Array<[string, (perRole: number) => BlockStore]> = [
  ['memory', (perRole) => new MemoryStore({ maxBytes: 2 * perRole * CHK_ENCODED_LEN + 1 })],
  ['disk', (perRole) => open(freshDir(), { maxBytes: diskBound(perRole) })],
];

for (const [name, make] of makers) {
  t.test(`${name}: CHK and SSK round trips; bad blocks refused`, async (t) => {
    const s = make(50);
    const c = chkBlock(1, 1), k = sskBlock(1, 3);
    t.equal(s.get('CHK', c.routingKey), undefined);
    t.ok(s.put('CHK', c.routingKey, c.block, 'store'));
    t.ok(s.put('SSK', k.routingKey, k.block, 'cache'));
    t.ok(same(s.get('CHK', c.routingKey), c.block));
    t.ok(same(s.get('SSK', k.routingKey), k.block));
    t.ok(s.has('CHK', c.routingKey));
    t.notOk(s.has('SSK', c.routingKey), 'kinds are separate key spaces');
    const other = chkBlock(1, 2);
    t.notOk(s.put('CHK', other.routingKey, c.block, 'store'), 'block under the wrong key');
    t.notOk(s.put('CHK', c.routingKey, c.block.subarray(1), 'store'), 'wrong length');
    const flipped = c.block.slice();
    flipped[500] ^= 1;
    t.notOk(s.put('CHK', c.routingKey, flipped, 'store'), 'tampered');
    t.notOk(s.put('SSK', c.routingKey, k.block, 'store'), 'SSK under a foreign key');
    t.throws(() => s.get('CHK', new Uint8Array(31)), RangeError);
    const st = s.stats();
    t.same([st.store.count, st.cache.count, st.store.bytes], [1, 1, CHK_ENCODED_LEN]);
    const out = s.get('CHK', c.routingKey)!;
    out[0] ^= 1; // callers own what get returns
    t.ok(same(s.get('CHK', c.routingKey), c.block));
    s.close();
  });

  t.test(`${name}: SSK keeps the newest version; older puts are ignored`, async (t) => {
    const s = make(50);
    const v2 = sskBlock(7, 2), v1 = sskBlock(7, 1), v5 = sskBlock(7, 5);
    t.same(v1.routingKey, v2.routingKey);
    t.ok(s.put('SSK', v2.routingKey, v2.block, 'store'));
    t.notOk(s.put('SSK', v1.routingKey, v1.block, 'store'), 'older refused');
    t.ok(same(s.get('SSK', v2.routingKey), v2.block));
    t.ok(s.put('SSK', v2.routingKey, v2.block, 'store'), 'same block again is fine');
    t.ok(s.put('SSK', v5.routingKey, v5.block, 'cache'));
    t.ok(same(s.get('SSK', v5.routingKey), v5.block));
    t.equal(s.stats().store.count + s.stats().cache.count, 1, 'one block per SSK key');
    s.close();
  });

  t.test(`${name}: store and cache have separate budgets, each evicting its least recently used`, async (t) => {
    const s = make(4);
    const stored = [0, 1, 2, 3].map((i) => chkBlock(2, i));
    for (const b of stored) t.ok(s.put('CHK', b.routingKey, b.block, 'store'));
    const cached = Array.from({ length: 10 }, (_, i) => chkBlock(3, i));
    for (let i = 0; i < 4; i++) s.put('CHK', cached[i].routingKey, cached[i].block, 'cache');
    t.ok(s.get('CHK', cached[0].routingKey), 'touch cache block 0');
    for (let i = 4; i < 7; i++) s.put('CHK', cached[i].routingKey, cached[i].block, 'cache');
    t.ok(s.has('CHK', cached[0].routingKey), 'recently used survives');
    t.notOk(s.has('CHK', cached[1].routingKey), 'least recently used went first');
    for (let i = 7; i < 10; i++) s.put('CHK', cached[i].routingKey, cached[i].block, 'cache');
    for (const b of stored) t.ok(same(s.get('CHK', b.routingKey), b.block), 'the cache never evicts the store');
    const st = s.stats();
    t.equal(st.store.count, 4);
    t.equal(st.cache.count, 4);
    t.equal(st.evictions, 6);
    t.ok(s.has('CHK', cached[9].routingKey));
    t.notOk(s.has('CHK', cached[0].routingKey));
    // A fifth store block evicts the oldest store block only.
    const extra = chkBlock(2, 99);
    t.ok(s.put('CHK', extra.routingKey, extra.block, 'store'));
    t.notOk(s.has('CHK', stored[0].routingKey));
    t.equal(s.stats().cache.count, 4);
    // Promotion: a cached block put as 'store' moves to the store; put as 'cache' again it stays.
    t.ok(s.put('CHK', cached[9].routingKey, cached[9].block, 'store'));
    t.ok(s.put('CHK', cached[9].routingKey, cached[9].block, 'cache'));
    t.same([s.stats().store.count, s.stats().cache.count], [4, 3]);
    s.close();
  });
}

t.test('disk: reopen rebuilds the index, roles and newest SSK included', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const chks = Array.from({ length: 20 }, (_, i) => chkBlock(4, i));
  chks.forEach((b, i) => s.put('CHK', b.routingKey, b.block, i % 2 ? 'store' : 'cache'));
  for (let v = 0; v < 4; v++) s.put('SSK', sskBlock(9, v).routingKey, sskBlock(9, v).block, 'store');
  const before = s.stats();
  s.close();
  const r = open(dir, { maxBytes: 64 * 2 ** 20 });
  const after = r.stats();
  t.same([after.store.count, after.cache.count, after.store.bytes, after.cache.bytes], [before.store.count, before.cache.count, before.store.bytes, before.cache.bytes]);
  for (const b of chks) t.ok(same(r.get('CHK', b.routingKey), b.block));
  t.ok(same(r.get('SSK', sskBlock(9, 0).routingKey), sskBlock(9, 3).block), 'newest version after reopen');
  t.equal(after.tornTails, 0);
  r.close();
});

t.test('disk: group commits run off the event loop, and close still makes everything durable', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20, syncMs: 0 }); // every put asks for a group commit
  const syncSync = fs.fdatasyncSync;
  const asyncSync = fs.fdatasync;
  let blocking = 0;
  let background = 0;
  fs.fdatasyncSync = ((fd: number) => (blocking++, syncSync(fd))) as typeof fs.fdatasyncSync;
  fs.fdatasync = ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => (background++, asyncSync(fd, cb))) as typeof fs.fdatasync;
  t.teardown(() => {
    fs.fdatasyncSync = syncSync;
    fs.fdatasync = asyncSync;
  });
  const chks = Array.from({ length: 30 }, (_, i) => chkBlock(6, i));
  for (const [i, b] of chks.entries()) {
    t.ok(s.put('CHK', b.routingKey, b.block, 'store'));
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 5)); // let some groups finish
  }
  const last = chkBlock(6, 99);
  t.ok(s.put('CHK', last.routingKey, last.block, 'store')); // dirty, or in a group still in flight
  chks.push(last);
  t.equal(blocking, 0, 'no put waited for the disk');
  t.ok(background > 0 && background <= chks.length, `${background} background group commits`);
  s.close();
  t.ok(blocking > 0, 'close syncs synchronously');
  const r = open(dir, { maxBytes: 64 * 2 ** 20 });
  for (const b of chks) t.ok(same(r.get('CHK', b.routingKey), b.block));
  r.close();
});

t.test('disk: a put whose caller says it verified skips the check, but a wrong block is still never served', async (t) => {
  const s = open(freshDir(), { maxBytes: 64 * 2 ** 20 });
  const a = chkBlock(6, 1), b = chkBlock(6, 2);
  t.ok(s.put('CHK', a.routingKey, a.block, 'store', { verified: true }));
  t.ok(same(s.get('CHK', a.routingKey), a.block));
  t.ok(s.put('CHK', b.routingKey, a.block, 'store', { verified: true }), 'a buggy caller slips in a wrong block');
  t.equal(s.get('CHK', b.routingKey), undefined, 'the get check catches it');
  t.equal(s.stats().corrupt, 1);
  t.notOk(s.has('CHK', b.routingKey), 'and drops it');
  s.close();
});

t.test('disk: a flipped bit is never served; the block is dropped', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const bs = [0, 1, 2].map((i) => chkBlock(5, i));
  for (const b of bs) s.put('CHK', b.routingKey, b.block, 'store');
  s.close();
  const file = segmentPath(dir, listSegments(dir)[0]);
  const bytes = fs.readFileSync(file);
  bytes[REC + HEADER_LEN + 1000] ^= 0x10; // block 1's body
  bytes[2 * REC + HEADER_LEN + 3] ^= 0x01; // block 2's sealed prefix
  fs.writeFileSync(file, bytes);
  const r = open(dir, { maxBytes: 64 * 2 ** 20 });
  t.ok(same(r.get('CHK', bs[0].routingKey), bs[0].block));
  t.equal(r.get('CHK', bs[1].routingKey), undefined);
  t.equal(r.get('CHK', bs[2].routingKey), undefined);
  t.notOk(r.has('CHK', bs[1].routingKey), 'dropped from the index');
  t.equal(r.stats().corrupt, 2);
  t.ok(r.put('CHK', bs[1].routingKey, bs[1].block, 'store'), 'a good copy can be put again');
  t.ok(same(r.get('CHK', bs[1].routingKey), bs[1].block));
  r.close();
});

t.test('disk: a torn tail and garbage after it are cut at open', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const bs = [0, 1, 2].map((i) => chkBlock(6, i));
  for (const b of bs) s.put('CHK', b.routingKey, b.block, 'cache');
  s.close();
  const file = segmentPath(dir, listSegments(dir)[0]);
  fs.truncateSync(file, 2 * REC + 5000); // record 2 half written
  const r = open(dir, { maxBytes: 64 * 2 ** 20 });
  t.equal(r.stats().tornTails, 1);
  t.equal(fs.statSync(file).size, 2 * REC);
  t.ok(same(r.get('CHK', bs[1].routingKey), bs[1].block));
  t.equal(r.get('CHK', bs[2].routingKey), undefined);
  t.ok(r.put('CHK', bs[2].routingKey, bs[2].block, 'cache'));
  r.close();
  fs.appendFileSync(segmentPath(dir, listSegments(dir).at(-1)!), globalThis.crypto.getRandomValues(new Uint8Array(3000)));
  const r2 = open(dir, { maxBytes: 64 * 2 ** 20 });
  for (const b of bs) t.ok(same(r2.get('CHK', b.routingKey), b.block));
  t.equal(r2.stats().tornTails, 1);
  r2.close();
});

t.test('disk: eviction and compaction keep the files bounded', async (t) => {
  const dir = freshDir();
  const maxBytes = 4 * 2 ** 20, segmentBytes = 256 * 2 ** 10;
  const s = open(dir, { maxBytes, segmentBytes });
  const bs = Array.from({ length: 400 }, (_, i) => chkBlock(7, i));
  let maxDisk = 0;
  bs.forEach((b, i) => {
    s.put('CHK', b.routingKey, b.block, i % 3 ? 'cache' : 'store');
    maxDisk = Math.max(maxDisk, s.stats().diskBytes);
  });
  const st = s.stats();
  t.ok(maxDisk <= maxBytes + segmentBytes + REC, `files stayed bounded (${maxDisk})`);
  t.ok(st.compactions > 0);
  t.ok(st.store.bytes <= st.store.budget && st.cache.bytes <= st.cache.budget);
  let held = 0;
  for (const b of bs) {
    const got = s.get('CHK', b.routingKey);
    if (got) {
      held++;
      t.ok(same(got, b.block));
    }
  }
  t.equal(held, st.store.count + st.cache.count);
  s.close();
  const r = open(dir, { maxBytes, segmentBytes });
  t.equal(r.stats().store.count + r.stats().cache.count, held, 'same blocks after reopen');
  r.close();
});

t.test('disk: no file in the store holds a routing key or a block prefix in clear', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const bs = [...Array.from({ length: 10 }, (_, i) => chkBlock(8, i)), ...Array.from({ length: 10 }, (_, i) => sskBlock(100 + i, 1))];
  bs.forEach((b, i) => t.ok(s.put(i < 10 ? 'CHK' : 'SSK', b.routingKey, b.block, 'store')));
  s.close();
  const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
  let leaks = 0;
  for (const b of bs) {
    for (const f of files) {
      if (f.indexOf(b.routingKey) >= 0) leaks++;
      if (f.indexOf(b.block.subarray(0, 32)) >= 0) leaks++; // CHK header / SSK public key
      if (f.indexOf(b.block.subarray(32, 64)) >= 0) leaks++; // SSK doc tag
    }
  }
  t.equal(leaks, 0);
  t.ok(files.some((f) => f.indexOf(bs[0].block.subarray(1000, 1100)) >= 0), 'sanity: the rest of a block is there');
});

t.test('parseSize is strict', async (t) => {
  t.equal(parseSize('1GiB'), 2 ** 30);
  t.equal(parseSize('512MiB'), 512 * 2 ** 20);
  t.equal(parseSize('100MB'), 1e8);
  t.equal(parseSize('1.5GiB'), 1.5 * 2 ** 30);
  t.equal(parseSize('65536'), 65536);
  t.equal(parseSize('4096B'), 4096);
  for (const bad of ['', 'GiB', '1 GiB', '-1GiB', '1e9', '1gib', '1GB ', '1.GiB', '1.5', '0x10', '1GiBs', '99999999999999TiB']) {
    t.throws(() => parseSize(bad.trimEnd() === bad ? bad : bad + 'x'), { name: 'CliError', exitCode: 2 }, bad);
  }
  t.equal(formatSize(2 ** 30), '1GiB');
});
