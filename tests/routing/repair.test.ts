// Block repair (routing/repair.ts through NodeCore) on small hand-built topologies: a holder dies
// and the block is copied to the next closest live node within one repair interval; with every
// holder alive a round costs one HAVE per holder pair and no block moves; one tick looks at no more
// than repairKeysPerStep keys; a node that is not among a key's closest hands it over and forgets
// it; a copy cached on the insert path brings a block back when all its holders die at once.
// Roles are picked by distance to the block's routing key: S[0] is the closest identity.
import t from 'tap';
import { chkEncode } from '../../crypto/chk.ts';
import { utf8 } from '../../crypto/bytes.ts';
import type { NodeCore } from '../../routing/node-core.ts';
import type { RoutingPolicy } from '../../routing/policy.ts';
import type { StoreKeyLister } from '../../routing/repair.ts';
import type { BlockKind } from '../../store/block-store.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import { byDistance, makeIdentities, TestNet, type Sent } from './harness.ts';

const ALL = makeIdentities(16, 23);
const A_BLOCK = chkEncode(utf8('a block to keep alive'));
const KEY = A_BLOCK.routingKey;
const S = byDistance(ALL, KEY);
const INTERVAL = 60_000;
const policy: Partial<RoutingPolicy> = { ackTimeoutMs: 2000, replyTimeoutMs: 20_000, repairIntervalMs: INTERVAL, silentPingMs: 24 * 3600_000 };
const TICK = 500;

/** A MemoryStore that lists its 'store'-role keys, as a restarted node's datastore would. */
class ListingStore extends MemoryStore implements StoreKeyLister {
  readonly keys: { kind: BlockKind; routingKey: Uint8Array }[] = [];
  storeKeys() {
    return this.keys;
  }
  seed(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array): void {
    if (this.put(kind, routingKey, block, 'store')) this.keys.push({ kind, routingKey });
  }
}

function node(net: TestNet, name: string, i: number, p: Partial<RoutingPolicy> = policy, store = new MemoryStore({ maxBytes: 64 << 20 })) {
  return { core: net.add(name, S[i], p, undefined, store), store };
}

/** Advances the clock in small steps (every core ticks at each), for `ms` in all. */
function run(net: TestNet, ms: number): void {
  for (let t = 0; t < ms; t += TICK) net.advance(TICK);
}

const stores = (x: { store: MemoryStore }) => x.store.stats().store.count;
const isStoreCopy = (s: Sent) => s.msg.type === 'ROUTE' && s.msg.purpose === 'STORE_BLOCK';

function meshed(net: TestNet, names: string[], idx: number[]) {
  const ns = idx.map((i, j) => node(net, names[j], i));
  for (const a of ns) net.know(a.core, ...ns.filter((b) => b !== a).map((b) => b.core));
  return ns;
}

t.test('a holder dies: the block is copied to the next closest live node within one interval', async (t) => {
  const net = new TestNet(5);
  const [s0, s1, s2, s3, s4] = meshed(net, ['S0', 'S1', 'S2', 'S3', 'S4'], [0, 1, 2, 3, 4]);
  const o = node(net, 'O', 12);
  net.know(o.core, s0.core, s1.core, s2.core, s3.core, s4.core);
  const rid = net.insert(o.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  t.same(net.inserts.get(rid), { ok: true, stored: 3, hops: 1 });
  t.same([s0, s1, s2, s3, s4].map(stores), [1, 1, 1, 0, 0]);

  net.kill(s1.core);
  net.log.length = 0;
  run(net, 1.1 * INTERVAL + 3 * policy.ackTimeoutMs! + TICK);
  t.equal(stores(s3), 1, 'S3, now among the 3 closest live nodes, stores it');
  t.equal(stores(s4), 0, 'S4 does not: three live copies are enough');
  t.ok(s3.store.get('CHK', KEY), 'a verified copy');
  const copies = net.log.filter(isStoreCopy).map((s) => `${s.from}>${s.to}`);
  t.ok(copies.length >= 1 && copies.every((c) => c.endsWith('>S3')), `copies went to S3 only: ${copies}`);
  t.ok((s0.core.table.get(s1.core.id)?.failures ?? 99) > 0, 'S0 noticed that S1 is gone');
  t.ok(s0.core.stats().repairTimeouts >= 1);

  // and a fetch that only knows S3 and S4 finds it
  const f = node(net, 'F', 14);
  net.know(f.core, s4.core);
  const rf = net.fetch(f.core, 'CHK', KEY);
  net.flush();
  t.ok(net.fetches.get(rf)?.ok, 'fetched after the repair');
});

t.test('all holders alive: each round is one HAVE per holder and peer, and no block is re-sent', async (t) => {
  const net = new TestNet(6);
  const [s0, s1, s2, s3] = meshed(net, ['S0', 'S1', 'S2', 'S3'], [0, 1, 2, 3]);
  const o = node(net, 'O', 12);
  net.know(o.core, s0.core);
  net.insert(o.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  net.log.length = 0;
  const rounds = 5;
  run(net, rounds * INTERVAL);
  t.equal(net.log.filter(isStoreCopy).length, 0, 'no STORE_BLOCK copy while every holder lives');
  const haves = net.log.filter((s) => s.msg.type === 'HAVE');
  const replies = net.log.filter((s) => s.msg.type === 'HAVE_REPLY');
  t.equal(replies.length, haves.length, 'every HAVE answered');
  t.ok(haves.every((s) => s.msg.type === 'HAVE' && s.msg.keys.length === 1), 'one key each');
  t.ok(haves.every((s) => ['S0', 'S1', 'S2'].includes(s.from) && ['S0', 'S1', 'S2'].includes(s.to)), 'only between the holders');
  const perHolderRounds = [s0, s1, s2].map((x) => x.core.stats().repairRounds);
  for (const r of perHolderRounds) t.ok(r >= rounds - 1 && r <= Math.ceil(rounds / 0.9), `rounds ${r} (interval ±10 %)`);
  t.equal(haves.length, 2 * perHolderRounds.reduce((a, b) => a + b, 0), 'two HAVE per holder per round');
  t.equal(stores(s3), 0);
});

t.test('bounded work per tick: a walk over many keys goes repairKeysPerStep keys at a time', async (t) => {
  const net = new TestNet(7);
  const p = { ...policy, repairKeysPerStep: 50, repairMaxQueries: 4 };
  const blocks = Array.from({ length: 300 }, (_, i) => chkEncode(utf8(`block ${i}`)));
  const listing = new ListingStore({ maxBytes: 64 << 20 });
  for (const b of blocks) listing.seed('CHK', b.routingKey, b.block);
  const a = node(net, 'A', 5, p, listing);
  const b = node(net, 'B', 6), c = node(net, 'C', 7);
  for (const x of [b, c]) for (const bl of blocks) x.store.put('CHK', bl.routingKey, bl.block, 'store');
  net.know(a.core, b.core, c.core);
  t.equal(a.core.stats().repairRounds, 0);
  const perTick: number[] = [];
  const sum = () => perTick.reduce((x, y) => x + y, 0);
  for (let i = 0; i < (1.2 * INTERVAL) / TICK + 20 && (sum() < 2 * blocks.length || perTick.length < 30); i++) {
    const before = net.log.length;
    net.advance(TICK);
    const keys = net.log.slice(before).reduce((n, s) => n + (s.msg.type === 'HAVE' && s.from === 'A' ? s.msg.keys.length : 0), 0);
    if (keys > 0 || perTick.length > 0) perTick.push(keys);
  }
  t.equal(a.core.stats().repairRounds, 1, 'one round in this time');
  t.equal(sum(), 2 * blocks.length, 'every key asked of both peers once');
  t.ok(perTick.every((k) => k <= 2 * 50), `at most 50 keys (to 2 peers) per tick: ${perTick}`);
  t.ok(perTick.filter((k) => k > 0).length >= 6, 'the walk spread over at least 6 ticks');
  t.equal(net.log.filter(isStoreCopy).length, 0, 'both peers hold everything: nothing sent');
  t.equal(a.core.stats().repairQueries, net.log.filter((s) => s.msg.type === 'HAVE' && s.from === 'A').length);
});

t.test('a node no longer among the closest hands the block over, then forgets it', async (t) => {
  const net = new TestNet(8);
  const listing = new ListingStore({ maxBytes: 1 << 20 });
  listing.seed('CHK', KEY, A_BLOCK.block);
  const far = node(net, 'FAR', 10, policy, listing);
  const [s0, s1, s2] = [node(net, 'S0', 0), node(net, 'S1', 1), node(net, 'S2', 2)];
  net.know(far.core, s0.core, s1.core, s2.core);
  run(net, 1.1 * INTERVAL + TICK);
  t.same([s0, s1, s2].map(stores), [1, 1, 1], 'the three closest got copies');
  t.equal(far.core.stats().repairCopies, 3);
  run(net, 1.2 * INTERVAL);
  t.equal(far.core.stats().repairHandoffs, 1, 'all three confirmed: handed over');
  t.ok(far.store.get('CHK', KEY), 'FAR still holds its copy (no demotion), but no longer repairs it');
  const q = far.core.stats().repairQueries;
  run(net, 2.2 * INTERVAL);
  t.equal(far.core.stats().repairQueries, q, 'no more queries about it');
  t.equal(far.core.stats().repairCopies, 3, 'no more copies');
});

t.test('every holder dies at once: a copy cached on the insert path brings the block back', async (t) => {
  const net = new TestNet(9);
  const [s0, s1, s2] = meshed(net, ['S0', 'S1', 'S2'], [0, 1, 2]);
  const s3 = node(net, 'S3', 3), s4 = node(net, 'S4', 4), s5 = node(net, 'S5', 5);
  const b = node(net, 'B', 8), o = node(net, 'O', 12);
  net.know(o.core, b.core);
  net.know(b.core, s0.core, s1.core, s2.core, s3.core, s4.core, s5.core);
  net.insert(o.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  t.equal(b.store.stats().cache.count, 1, 'B cached it on the way');
  for (const x of [s0, s1, s2]) net.kill(x.core);
  net.log.length = 0;
  run(net, 1.1 * INTERVAL + 5 * policy.ackTimeoutMs! + TICK);
  t.same([s3, s4, s5].map(stores), [1, 1, 1], 'the three closest live nodes B knows store it');
  const asked = net.log.filter((s) => s.msg.type === 'HAVE' && s.from === 'B').map((s) => s.to);
  t.same(asked.slice(0, 3), ['S0', 'S1', 'S2'], 'the closest first, one at a time, each after the previous timed out');
});

t.test('repair off (repairIntervalMs 0): nothing is asked', async (t) => {
  const net = new TestNet(10);
  const p = { ...policy, repairIntervalMs: 0 };
  const ns = [0, 1, 2].map((i) => node(net, `S${i}`, i, p));
  for (const a of ns) net.know(a.core, ...ns.filter((x) => x !== a).map((x) => x.core));
  const o = node(net, 'O', 12, p);
  net.know(o.core, ns[0].core);
  net.insert(o.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  run(net, 2 * INTERVAL);
  t.equal(net.log.filter((s) => s.msg.type === 'HAVE').length, 0);
});

t.test('HAVE allowance: a peer asking beyond haveKeysPerSec is not answered until its allowance refills', async (t) => {
  const net = new TestNet(10);
  const p = { ...policy, haveKeysPerSec: 64 }; // burst 128 keys: two full HAVEs
  const b = node(net, 'B', 0, p), x = node(net, 'X', 5, p);
  net.know(b.core, x.core);
  const { encodeMessage } = await import('../../routing/messages.ts');
  const keys = Array.from({ length: 64 }, (_, i) => chkEncode(utf8(`absent ${i}`)).routingKey).map((k) => Uint8Array.of(0, ...k));
  const have = (n: number) => encodeMessage({ type: 'HAVE', nonce: new Uint8Array(8).fill(n), keys });
  for (let n = 1; n <= 3; n++) net.inject(x.core.id, b.core, have(n));
  net.flush();
  const replies = () => net.log.filter((s) => s.msg.type === 'HAVE_REPLY' && s.from === 'B').length;
  t.equal(replies(), 2, 'the burst answers two, the third is dropped');
  t.same([b.core.stats().haveServed, b.core.stats().haveDropped], [2, 1]);
  net.advance(1000); // one second: 64 keys back
  net.inject(x.core.id, b.core, have(4));
  net.flush();
  t.equal(replies(), 3, 'answered again once the allowance refilled');
  t.throws(() => new TestNet(1).add('Z', S[1], { ...policy, haveKeysPerSec: 31 }), RangeError, 'a full HAVE must fit the burst');
});
