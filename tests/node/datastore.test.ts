// The block stores: the on-disk datastore (node/datastore/) and the in-memory one
// (store/memory-store.ts) pass the same suite (round trips, SSK newest-wins, refusal of bad
// blocks, store/cache separation and per-role LRU eviction); then what only the disk has: reopen
// rebuilds the index, a flipped bit is never served, torn tails are cut, compaction bounds the
// files, no file holds a routing key in clear; evicted and replaced blocks stay gone after a
// reopen (tombstones), budgets hold after a reopen, compaction keeps a tombstone exactly as long as
// it cancels something, records of the first format are still read; the pieces of the get path
// (prepared slot and MAC hashing, seal v2, the LRU; its crypto pieces, one-shot hashing and
// chkVerifyInPlace, are tested in tests/crypto/backend.test.ts and chk.test.ts); --store-size
// parsing; borrow (lent blocks, nested borrows, a corrupt block never lent); and the store watch
// that warns when the 'store' role is full and evicting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { CHK_ENCODED_LEN } from '../../crypto/constants.ts';
import { open, LIVE_FRACTION } from '../../node/datastore/datastore.ts';
import { decodeHeader, HEADER_LEN, rebindHeader } from '../../node/datastore/record.ts';
import { listSegments, segmentPath } from '../../node/datastore/segments.ts';
import { formatSize, parseSize } from '../../node/datastore/size.ts';
import type { BlockKind, BlockStore } from '../../store/block-store.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import { headerMac, SaltedKeys, sealKeyOf, sealPrefix, sealV2, slotOf } from '../../store/slots.ts';
import { RoleLru } from '../../store/store-policy.ts';
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

  t.test(`${name}: borrow lends the verified block for one call, nested borrows included`, async (t) => {
    const s = make(50);
    const a = chkBlock(2, 1), b = chkBlock(2, 2), k = sskBlock(2, 4);
    t.ok(s.put('CHK', a.routingKey, a.block, 'store'));
    t.ok(s.put('CHK', b.routingKey, b.block, 'cache'));
    t.ok(s.put('SSK', k.routingKey, k.block, 'store'));
    let called = 0;
    t.equal(s.borrow('CHK', chkBlock(2, 3).routingKey, () => called++), undefined, 'absent: undefined');
    t.equal(called, 0, 'use is not called for an absent block');
    t.equal(s.borrow('CHK', a.routingKey, (x) => Buffer.from(x).equals(a.block)), true, 'the exact block');
    t.equal(s.borrow('SSK', k.routingKey, (x) => Buffer.from(x).equals(k.block)), true, 'SSK too');
    const seen = s.borrow('CHK', a.routingKey, (x) => {
      const inner = s.borrow('CHK', b.routingKey, (y) => Buffer.from(y).equals(b.block));
      return [inner, Buffer.from(x).equals(a.block)]; // the outer loan survives the inner one
    });
    t.same(seen, [true, true], 'a borrow inside a borrow sees both blocks whole');
    t.equal(s.borrow('CHK', b.routingKey, (x) => x.slice())?.length, b.block.length);
    t.throws(() => s.borrow('CHK', new Uint8Array(31), () => 0), RangeError);
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
  let lent = 0;
  t.equal(r.borrow('CHK', bs[1].routingKey, () => lent++), undefined, 'borrow checks the block as get does');
  t.equal(lent, 0, 'and lends nothing that fails');
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
  s.flush();
  const files = records(dir), tombstones = s.stats().tombstones;
  t.equal(tombstones, files.filter((r) => r.type === 'tombstone').length, 'stats count the tombstones in the files');
  // Compaction drops the ones that cancel nothing, so they stay at about one per record in the files.
  const blocks = files.filter((r) => r.type === 'block').length;
  t.ok(tombstones <= blocks, `tombstones do not pile up: ${tombstones} in the files with ${blocks} blocks, after ${st.evictions} evictions`);
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

// --- tombstones, budgets after reopen, compaction of tombstones, the first format ---

interface OnDisk {
  seg: number;
  off: number;
  type: 'block' | 'tombstone';
  slot: string;
}

/** Every record in a store's files, in log order (a test's own walk, with the store's salt). */
function records(dir: string): OnDisk[] {
  const keys = new SaltedKeys(new Uint8Array(fs.readFileSync(path.join(dir, 'salt'))));
  const out: OnDisk[] = [];
  for (const seg of listSegments(dir)) {
    const bytes = new Uint8Array(fs.readFileSync(segmentPath(dir, seg)));
    for (let off = 0; off + HEADER_LEN <= bytes.length; ) {
      const h = decodeHeader(keys, bytes.subarray(off, off + HEADER_LEN), seg, off);
      if (!h) break;
      out.push({ seg, off, type: h.type, slot: Buffer.from(h.slot).toString('hex') });
      off += HEADER_LEN + h.length;
    }
  }
  return out;
}

const slotHex = (dir: string, kind: BlockKind, routingKey: Uint8Array): string =>
  Buffer.from(slotOf(new Uint8Array(fs.readFileSync(path.join(dir, 'salt'))), kind, routingKey)).toString('hex');

t.test('disk: evicted blocks stay evicted after a reopen, and the index is what it was', async (t) => {
  const dir = freshDir();
  const opts = { maxBytes: diskBound(4) };
  const s = open(dir, opts);
  const cs = Array.from({ length: 7 }, (_, i) => chkBlock(20, i));
  for (const c of cs.slice(0, 4)) t.ok(s.put('CHK', c.routingKey, c.block, 'cache'));
  t.ok(s.get('CHK', cs[0].routingKey), 'touch block 0: it outlives 1, 2 and 3');
  for (const c of cs.slice(4)) t.ok(s.put('CHK', c.routingKey, c.block, 'cache'));
  const held = [cs[0], cs[4], cs[5], cs[6]], gone = [cs[1], cs[2], cs[3]];
  for (const c of gone) t.notOk(s.has('CHK', c.routingKey));
  const before = s.stats();
  s.close();
  t.equal(records(dir).filter((r) => r.type === 'tombstone').length, 3, 'one tombstone per eviction');
  const r = open(dir, opts);
  const after = r.stats();
  t.same([after.cache.count, after.cache.bytes, after.store.count], [before.cache.count, before.cache.bytes, 0]);
  t.ok(after.cache.bytes <= after.cache.budget);
  t.equal(after.tombstones, 3);
  for (const c of gone) t.equal(r.get('CHK', c.routingKey), undefined, 'an evicted block does not come back');
  for (const c of held) t.ok(same(r.get('CHK', c.routingKey), c.block));
  t.equal(r.stats().evictions, 0, 'nothing evicted at open');
  // Put again after its eviction, a block is back, after a reopen too (its tombstone is older).
  t.ok(r.put('CHK', gone[0].routingKey, gone[0].block, 'cache'));
  r.close();
  const r2 = open(dir, opts);
  t.ok(same(r2.get('CHK', gone[0].routingKey), gone[0].block));
  t.equal(r2.stats().cache.count, 4);
  r2.close();
});

t.test('disk: a reopen with smaller budgets evicts down to them, for good', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: diskBound(8) });
  const bs = Array.from({ length: 8 }, (_, i) => chkBlock(21, i));
  for (const b of bs) t.ok(s.put('CHK', b.routingKey, b.block, 'store'));
  s.close();
  const small = open(dir, { maxBytes: diskBound(4) });
  const st = small.stats();
  t.equal(st.store.count, 4);
  t.ok(st.store.bytes <= st.store.budget, 'within the budget');
  t.equal(st.evictions, 4);
  for (const b of bs.slice(0, 4)) t.notOk(small.has('CHK', b.routingKey), 'the oldest went');
  for (const b of bs.slice(4)) t.ok(same(small.get('CHK', b.routingKey), b.block));
  small.close();
  const big = open(dir, { maxBytes: diskBound(8) });
  t.equal(big.stats().store.count, 4, 'the larger budget again does not bring them back');
  for (const b of bs.slice(0, 4)) t.notOk(big.has('CHK', b.routingKey));
  big.close();
});

t.test('disk: a torn tombstone at the tail is cut, and the budget still holds', async (t) => {
  const dir = freshDir();
  const opts = { maxBytes: diskBound(4) };
  const s = open(dir, opts);
  const cs = Array.from({ length: 5 }, (_, i) => chkBlock(22, i));
  for (const c of cs) t.ok(s.put('CHK', c.routingKey, c.block, 'cache')); // block 0 evicted
  s.close(); // its tombstone is written last
  const last = records(dir).at(-1)!;
  t.same([last.type, last.slot], ['tombstone', slotHex(dir, 'CHK', cs[0].routingKey)]);
  const file = segmentPath(dir, last.seg);
  t.equal(fs.statSync(file).size, last.off + HEADER_LEN);
  fs.truncateSync(file, last.off + 50); // a crash in the middle of writing it
  const r = open(dir, opts);
  t.equal(r.stats().tornTails, 1);
  t.equal(r.stats().cache.count, 4, 'five blocks in the files, four fit: the oldest is evicted again');
  t.equal(r.get('CHK', cs[0].routingKey), undefined);
  for (const c of cs.slice(1)) t.ok(same(r.get('CHK', c.routingKey), c.block));
  t.equal(r.stats().corrupt, 0);
  r.close();
  const r2 = open(dir, opts);
  t.equal(r2.stats().tornTails, 0, 'the new tombstone was written whole');
  t.equal(r2.get('CHK', cs[0].routingKey), undefined);
  t.equal(r2.stats().cache.count, 4);
  r2.close();
});

t.test('disk: a replaced SSK never reverts; compaction keeps its tombstone exactly as long as it cancels something', async (t) => {
  const dir = freshDir();
  // Each role's budget holds four CHK blocks and one SSK block; a segment, four CHK records and one SSK record.
  const opts = { maxBytes: Math.ceil((8 * CHK_ENCODED_LEN + 3178) / LIVE_FRACTION), segmentBytes: 4 * REC + 1 };
  const s = open(dir, opts);
  t.ok(s.stats().store.budget >= 4 * CHK_ENCODED_LEN + 1178 && s.stats().store.budget < 5 * CHK_ENCODED_LEN);
  const v1 = sskBlock(30, 1), v2 = sskBlock(30, 2);
  const slot = slotHex(dir, 'SSK', v1.routingKey);
  const graves = () => records(dir).filter((r) => r.type === 'tombstone' && r.slot === slot);
  const stored = Array.from({ length: 9 }, (_, i) => chkBlock(31, i));
  for (const b of stored.slice(0, 4)) t.ok(s.put('CHK', b.routingKey, b.block, 'store'));
  t.ok(s.put('SSK', v1.routingKey, v1.block, 'store')); // segment 1: stored 0-3, v1
  t.ok(s.put('SSK', v2.routingKey, v2.block, 'store')); // segment 2; v1 is garbage in segment 1
  for (const b of stored.slice(0, 4)) t.ok(s.get('CHK', b.routingKey)); // v2 is now the store's least recently used
  t.ok(s.put('CHK', stored[4].routingKey, stored[4].block, 'store')); // evicts v2 (and stored 0): tombstones
  t.notOk(s.has('SSK', v1.routingKey));
  // Cache blocks fill segment 2 and the next ones, and push each other out, until compaction
  // retires segment 2: v2's garbage and its tombstone were there, v1's garbage is still in segment 1.
  let n = 0;
  const cache = (st: BlockStore) => {
    const c = chkBlock(32, n++);
    t.ok(st.put('CHK', c.routingKey, c.block, 'cache'));
  };
  while (n < 50 && listSegments(dir).includes(2)) cache(s);
  t.notOk(listSegments(dir).includes(2), `segment 2 compacted away after ${n} puts`);
  t.ok(listSegments(dir).includes(1), 'segment 1 (v1, garbage) still there');
  s.flush();
  t.equal(graves().length, 1, 'the tombstone was carried forward');
  t.ok(graves()[0].seg > 2);
  s.close();
  const r = open(dir, opts);
  t.equal(r.get('SSK', v1.routingKey), undefined, 'no older version comes back after a reopen');
  for (const b of stored.slice(1, 5)) t.ok(same(r.get('CHK', b.routingKey), b.block));
  // Evict the store blocks of segment 1: it empties and goes. Until then the tombstone stays;
  // after, the next compaction of its segment drops it.
  let keptWhileNeeded = true, checks = 0;
  const check = () => {
    if (!listSegments(dir).includes(1)) return;
    checks++;
    if (graves().length !== 1) keptWhileNeeded = false;
  };
  for (const b of stored.slice(5)) {
    t.ok(r.put('CHK', b.routingKey, b.block, 'store'));
    check();
  }
  while (n < 150 && listSegments(dir).includes(1)) {
    check();
    cache(r);
  }
  t.ok(checks > 0, `checked ${checks} times while segment 1 was there`);
  t.notOk(listSegments(dir).includes(1), `segment 1 compacted away after ${n} puts`);
  t.ok(keptWhileNeeded, 'the tombstone was in the files as long as v1 was');
  const left = new Set(graves().map((g) => g.seg));
  while (n < 300 && [...left].some((id) => listSegments(dir).includes(id))) cache(r);
  t.notOk([...left].some((id) => listSegments(dir).includes(id)), `its segment compacted after ${n} puts`);
  r.flush();
  t.equal(graves().length, 0, 'dropped: no record of its slot was left to cancel');
  t.equal(r.stats().tombstones, records(dir).filter((x) => x.type === 'tombstone').length, 'stats count the tombstones in the files');
  r.close();
  const r2 = open(dir, opts);
  t.equal(r2.get('SSK', v1.routingKey), undefined);
  r2.close();
});

t.test('disk: every flipped bit of a record is either caught or harmless; a wrong block is never served', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const c0 = chkBlock(40, 0), c1 = chkBlock(40, 1), k = sskBlock(41, 3);
  s.put('CHK', c0.routingKey, c0.block, 'store');
  s.put('CHK', c1.routingKey, c1.block, 'store');
  s.put('SSK', k.routingKey, k.block, 'cache');
  s.close();
  const file = segmentPath(dir, listSegments(dir)[0]);
  const original = fs.readFileSync(file);
  const positions = [
    ...Array.from({ length: HEADER_LEN }, (_, i) => REC + i), // every byte of c1's header
    ...Array.from({ length: 64 }, (_, i) => REC + HEADER_LEN + i), // its sealed prefix
    REC + HEADER_LEN + 64, REC + HEADER_LEN + 20000, 2 * REC - 1, // its body
    2 * REC + 5, 2 * REC + 50, 2 * REC + HEADER_LEN + 10, 2 * REC + HEADER_LEN + 1000, // the SSK record
  ];
  let served = 0, wrong = 0, caught = 0;
  for (const p of positions) {
    const bytes = Buffer.from(original);
    bytes[p] ^= 1 << (p % 8);
    fs.writeFileSync(file, bytes);
    const r = open(dir, { maxBytes: 64 * 2 ** 20 });
    for (const [kind, b] of [['CHK', c0], ['CHK', c1], ['SSK', k]] as const) {
      const got = r.get(kind, b.routingKey);
      if (got === undefined) continue;
      served++;
      if (!same(got, b.block)) wrong++;
    }
    if (r.stats().corrupt > 0 || r.stats().tornTails > 0) caught++;
    r.close();
  }
  t.equal(wrong, 0, `no wrong block served (${served} served over ${positions.length} flips)`);
  t.equal(caught, positions.length, 'every flip was noticed (a cut tail or a failed check)');
  fs.writeFileSync(file, original);
});

t.test('disk: a get re-reads the header without its MAC, and a header changed under an open store is still never served', async (t) => {
  // Header fields a get uses: magic, version (the seal), kind, type, length, slot, nonce (the first
  // 12 bytes seal v2 uses). Any other change is harmless to a get (and the MAC catches it at open).
  for (const at of [0, 4, 5, 7, 10, 16, 40, 48, 55, 59, 6, 13, 60, 63, 70]) {
    const used = at < 6 || at === 7 || (at >= 8 && at < 12) || (at >= 16 && at < 60);
    const dir = freshDir();
    const s = open(dir, { maxBytes: 64 * 2 ** 20 });
    const c = chkBlock(42, at);
    s.put('CHK', c.routingKey, c.block, 'store');
    s.flush();
    const fd = fs.openSync(segmentPath(dir, listSegments(dir)[0]), 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= at === 4 ? 3 : 0x40; // version 2 -> 1 (seal v1), or any other change
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const got = s.get('CHK', c.routingKey);
    if (used) {
      t.equal(got, undefined, `byte ${at} changed: not served`);
      t.equal(s.stats().corrupt, 1);
      t.notOk(s.has('CHK', c.routingKey));
    } else t.ok(same(got, c.block), `byte ${at} changed: not used by a get; the block served is still the right one`);
    s.close();
    const r = open(dir, { maxBytes: 64 * 2 ** 20 });
    t.equal(r.get('CHK', c.routingKey), undefined, 'nor after a reopen');
    r.close();
  }
});

t.test('disk: records of the first format (seal v1) are still read, and still checked', async (t) => {
  const dir = freshDir();
  const s = open(dir, { maxBytes: 64 * 2 ** 20 });
  const c = chkBlock(43, 1), k = sskBlock(44, 2);
  s.put('CHK', c.routingKey, c.block, 'store');
  s.put('SSK', k.routingKey, k.block, 'cache');
  s.close();
  // Rewrite both records as format 1 wrote them: version 1, prefix sealed with seal v1, MAC re-bound.
  const salt = new Uint8Array(fs.readFileSync(path.join(dir, 'salt')));
  const keys = new SaltedKeys(salt);
  const seg = listSegments(dir)[0];
  const file = segmentPath(dir, seg);
  const bytes = new Uint8Array(fs.readFileSync(file));
  for (const [kind, b, off] of [['CHK', c, 0], ['SSK', k, REC]] as const) {
    const header = bytes.subarray(off, off + HEADER_LEN);
    const nonce = header.slice(48, 64);
    const sealed = bytes.subarray(off + HEADER_LEN, off + HEADER_LEN + 64);
    const plain = sealV2(b.routingKey, nonce, sealed);
    t.same(plain, b.block.subarray(0, 64), 'sealed with seal v2 now');
    sealed.set(sealPrefix(sealKeyOf(salt, kind, b.routingKey), nonce, plain));
    header[4] = 1;
    rebindHeader(keys, header, seg, off);
  }
  fs.writeFileSync(file, bytes);
  const r = open(dir, { maxBytes: 64 * 2 ** 20 });
  t.equal(r.stats().store.count + r.stats().cache.count, 2);
  t.ok(same(r.get('CHK', c.routingKey), c.block), 'a v1 CHK record is served');
  t.ok(same(r.get('SSK', k.routingKey), k.block), 'a v1 SSK record is served');
  r.close();
  bytes[HEADER_LEN + 2000] ^= 4;
  fs.writeFileSync(file, bytes);
  const r2 = open(dir, { maxBytes: 64 * 2 ** 20 });
  t.equal(r2.get('CHK', c.routingKey), undefined, 'a flipped bit in a v1 record is caught');
  t.ok(same(r2.get('SSK', k.routingKey), k.block));
  r2.close();
});

t.test('get path pieces: prepared slot and MAC hashing, seal v2 and the LRU', async (t) => {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const keys = new SaltedKeys(salt);
  for (const [kind, b] of [['CHK', chkBlock(45, 1)], ['SSK', sskBlock(45, 1)]] as const) {
    t.same(keys.slot(kind, b.routingKey), slotOf(salt, kind, b.routingKey), `${kind} slot, from the prepared buffer`);
  }
  const fields = globalThis.crypto.getRandomValues(new Uint8Array(80));
  t.same(keys.headerMac(fields), headerMac(salt, fields), 'header MAC, from the prepared pads');
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const blk = sskBlock(45, 2).block;
  const sealed = sealV2(sskBlock(45, 2).routingKey, nonce, blk);
  t.notSame(sealed, blk.subarray(0, 64));
  t.same(sealV2(sskBlock(45, 2).routingKey, nonce, sealed), blk.subarray(0, 64), 'seal v2 undoes itself');
  t.notSame(sealV2(sskBlock(45, 2).routingKey, globalThis.crypto.getRandomValues(new Uint8Array(16)), blk), sealed, 'another nonce, another stream');
  // Seal v2 is defined as the keystream ChaCha20-Poly1305 encrypts with (records written when it
  // was computed through the AEAD must read the same).
  const viaAead = nodeBackend.chacha20poly1305.seal(sskBlock(45, 2).routingKey, nonce.subarray(0, 12), new Uint8Array(0), blk.subarray(0, 64)).subarray(0, 64);
  t.same(sealed, viaAead, 'seal v2 = the AEAD\'s ciphertext of the prefix, tag left off');
  const inPlace = blk.slice();
  sealV2(sskBlock(45, 2).routingKey, nonce, inPlace, inPlace);
  t.same(inPlace.subarray(0, 64), sealed, 'sealed in place: the prefix only');
  t.same(inPlace.subarray(64), blk.subarray(64), 'the rest untouched');

  const lru = new RoleLru<{ role: 'store' | 'cache'; size: number }>({ store: 10, cache: 10 });
  for (const k of ['a', 'b', 'c']) lru.add(k, { role: 'cache', size: 4 });
  lru.add('s', { role: 'store', size: 10 });
  t.same(lru.stats('cache'), { bytes: 12, count: 3, budget: 10 }, 'add does not evict');
  for (let i = 0; i < 1000; i++) lru.touch('a'); // many touches of one key: a relink each, the Map untouched
  t.same(lru.trim().map(([k]) => k), ['b'], 'trim evicts the least recently used until within budget');
  t.same([...lru.entries()].map(([k]) => k), ['s', 'c', 'a']);
  t.same(lru.set('d', { role: 'cache', size: 4 }).map(([k]) => k), ['c']);
  t.same(lru.set('a', { role: 'store', size: 2 }).map(([k]) => k), ['s'], 'a role change moves the entry');
  t.same([lru.stats('store').count, lru.stats('cache').count, lru.stats('cache').bytes], [1, 1, 4]);
  t.equal(lru.remove('zz'), undefined);
  t.equal(lru.evictions, 3);
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

t.test('store watch: a full store role that evicts is reported, a cache that evicts is not', async (t) => {
  const { storeFullWarning } = await import('../../node/store-watch.ts');
  const s = new MemoryStore({ maxBytes: 2 * 4 * CHK_ENCODED_LEN + 1 }); // 4 blocks per role
  let before = s.stats();
  for (let i = 0; i < 6; i++) s.put('CHK', chkBlock(9, i).routingKey, chkBlock(9, i).block, 'cache');
  t.equal(storeFullWarning(before, s.stats()), undefined, 'the cache evicting is normal');
  before = s.stats();
  for (let i = 0; i < 4; i++) s.put('CHK', chkBlock(10, i).routingKey, chkBlock(10, i).block, 'store');
  t.equal(storeFullWarning(before, s.stats()), undefined, 'full, nothing evicted yet');
  before = s.stats();
  s.put('CHK', chkBlock(10, 4).routingKey, chkBlock(10, 4).block, 'store');
  const w = storeFullWarning(before, s.stats());
  t.match(w?.message, /store full/);
  t.equal(w?.fields.evicted, 1);
  t.equal(storeFullWarning(s.stats(), s.stats()), undefined, 'nothing new, nothing said');
});
