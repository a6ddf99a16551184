// The routing table (routing/table.ts): bucket placement, insertion rules (room, update by newer
// timestamp, replacing failing entries, replacements when full), eviction after consecutive
// failures with promotion of a replacement, and closest() against a brute-force sort.
import t from 'tap';
import type { NodeDescriptor } from '../../routing/descriptor.ts';
import { commonPrefixLength, compareDistance, idEquals, randomKeyAtPrefix } from '../../routing/keyspace.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { RoutingTable } from '../../routing/table.ts';

const rng = new SeededRandom(3);
const SELF = rng.bytes(32);
// Tables only look at id and timestamp; a minimal stand-in descriptor keeps the test fast.
function fake(id: Uint8Array, timestamp = 1): NodeDescriptor {
  return { id, timestamp, protocolVersion: 1, identityKey: id, onionKey: id, addresses: ['h:1'], signature: new Uint8Array(64), bytes: id };
}
const inBucket = (i: number) => fake(randomKeyAtPrefix(SELF, i, (n) => rng.bytes(n)));

t.test('entries go to the bucket of their common prefix; ourselves never', async (t) => {
  const table = new RoutingTable(SELF, { k: 4 });
  t.equal(table.offer(fake(SELF.slice()), 0).status, 'self');
  for (const i of [0, 1, 5, 200]) {
    const d = inBucket(i);
    t.equal(table.offer(d, 0).status, 'added');
    t.equal(table.bucketIndex(d.id), i);
    t.equal(table.bucketSize(i), 1);
    t.equal(table.get(d.id)?.desc, d);
  }
  t.equal(table.size, 4);
  t.equal(table.depth, 201);
  t.equal([...table.entries()].length, 4);
});

t.test('a known peer is updated only by a newer descriptor', async (t) => {
  const table = new RoutingTable(SELF);
  const d = inBucket(3);
  table.offer(d, 0);
  t.equal(table.offer(fake(d.id, 1), 5).status, 'kept');
  const newer = fake(d.id, 2);
  t.equal(table.offer(newer, 5).status, 'updated');
  t.equal(table.get(d.id)?.desc, newer);
  t.equal(table.size, 1);
});

t.test('a full bucket: newcomers wait as replacements unless an entry is failing', async (t) => {
  const table = new RoutingTable(SELF, { k: 3, replacements: 2, maxFailures: 2 });
  const full = [inBucket(0), inBucket(0), inBucket(0)];
  full.forEach((d, i) => table.offer(d, 10 + i));
  const r = table.offer(inBucket(0), 20);
  t.equal(r.status, 'cached');
  t.ok(r.status === 'cached' && idEquals(r.oldest.desc.id, full[0].id), 'oldest entry named for a ping');
  t.equal(table.bucketSize(0), 3);
  t.notOk(table.markFailed(full[1].id), 'one failure does not evict');
  const newcomer = inBucket(0);
  const r2 = table.offer(newcomer, 30);
  t.equal(r2.status, 'replaced');
  t.ok(r2.status === 'replaced' && idEquals(r2.evicted.desc.id, full[1].id));
  t.ok(table.get(newcomer.id));
  t.equal(table.get(full[1].id), undefined);
});

t.test('consecutive failures evict; a message in between resets; a replacement takes the place', async (t) => {
  const table = new RoutingTable(SELF, { k: 2, replacements: 2, maxFailures: 3 });
  const a = inBucket(1), b = inBucket(1), spare1 = inBucket(1), spare2 = inBucket(1);
  table.offer(a, 0);
  table.offer(b, 0);
  table.offer(spare1, 0);
  table.offer(spare2, 0);
  t.notOk(table.markFailed(a.id));
  t.notOk(table.markFailed(a.id));
  table.markSeen(a.id, 5);
  t.equal(table.get(a.id)?.failures, 0, 'seen: failures reset');
  t.equal(table.get(a.id)?.lastSeen, 5);
  t.notOk(table.markFailed(a.id));
  t.notOk(table.markFailed(a.id));
  t.ok(table.markFailed(a.id), 'third failure in a row evicts');
  t.equal(table.get(a.id), undefined);
  t.ok(table.get(spare2.id), 'the newest replacement was promoted');
  t.equal(table.size, 2);
  t.ok(table.remove(b.id));
  t.ok(table.get(spare1.id), 'then the next one');
  t.notOk(table.remove(b.id), 'already gone');
  t.notOk(table.markFailed(rng.bytes(32)), 'unknown peer: nothing');
});

t.test('closest(key, n) equals a brute-force sort, with filters', async (t) => {
  const table = new RoutingTable(SELF, { k: 8 });
  const all: NodeDescriptor[] = [];
  for (let i = 0; i < 400; i++) {
    const d = i % 2 === 0 ? fake(rng.bytes(32)) : inBucket(rng.int(12));
    if (table.offer(d, 0).status === 'added') all.push(d);
  }
  for (let round = 0; round < 200; round++) {
    const key = round % 3 === 0 ? randomKeyAtPrefix(SELF, rng.int(14), (n) => rng.bytes(n)) : rng.bytes(32);
    const n = 1 + rng.int(20);
    const want = [...all].sort((a, b) => compareDistance(a.id, b.id, key)).slice(0, n);
    const got = table.closest(key, n).map((e) => e.desc);
    t.same(got.map((d) => Buffer.from(d.id).toString('hex')), want.map((d) => Buffer.from(d.id).toString('hex')));
    const odd = (d: NodeDescriptor) => (d.id[31] & 1) === 1;
    const wantOdd = [...all].filter(odd).sort((a, b) => compareDistance(a.id, b.id, key)).slice(0, n);
    t.same(table.closest(key, n, (e) => odd(e.desc)).map((e) => e.desc), wantOdd);
  }
  t.same(table.closest(SELF, 0), []);
  t.equal(table.closest(SELF, 1000).length, all.length);
  t.ok(all.every((d) => commonPrefixLength(SELF, d.id) < 256));
});

t.test('bucket refresh bookkeeping', async (t) => {
  const table = new RoutingTable(SELF);
  t.equal(table.bucketRefreshedAt(4), -Infinity);
  table.touch(4, 123);
  t.equal(table.bucketRefreshedAt(4), 123);
  t.throws(() => table.touch(256, 0), RangeError);
  t.throws(() => new RoutingTable(SELF, { k: 0 }), RangeError);
});
