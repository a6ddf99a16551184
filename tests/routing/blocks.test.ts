// Blocks over the overlay (routing/block-requests.ts GET_BLOCK / PUT_BLOCK through NodeCore) on small
// hand-built topologies: a hit at the first hop and at the end of the route, NOT_FOUND travelling
// back (a node answers a second copy of a failed request from memory), caching by relaying hops only (never by the originator), a corrupting peer detected, its
// standing lowered and the block fetched through another route, inserts stored on the closest node
// and its replicas, a dead replica, a bad inserted block dropped in silence, and API misuse.
// Roles are picked by distance to the block's routing key: S[0] is the closest identity.
import t from 'tap';
import { chkEncode } from '../../crypto/chk.ts';
import { utf8 } from '../../crypto/bytes.ts';
import { idHex } from '../../routing/keyspace.ts';
import type { NodeCore } from '../../routing/node-core.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import { byDistance, makeIdentities, TestNet } from './harness.ts';

const ALL = makeIdentities(16, 11);
const A_BLOCK = chkEncode(utf8('a block of content'));
const KEY = A_BLOCK.routingKey;
const S = byDistance(ALL, KEY);
const ACK = 2000;
const policy = { ackTimeoutMs: ACK, replyTimeoutMs: 20_000 };
const newStore = () => new MemoryStore({ maxBytes: 4 << 20 });
const isBlockMsg = (s: { msg: { type: string } }) => s.msg.type !== 'PING' && s.msg.type !== 'PONG';

function node(net: TestNet, name: string, i: number): { core: NodeCore; store: MemoryStore } {
  const store = newStore();
  return { core: net.add(name, S[i], policy, undefined, store), store };
}

t.test('a hit at the first hop: the block comes back verified and the originator keeps no copy', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 10), b = node(net, 'B', 3);
  net.know(a.core, b.core);
  t.ok(b.store.put('CHK', KEY, A_BLOCK.block, 'store'));
  const rid = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  const r = net.fetches.get(rid);
  t.ok(r?.ok, 'fetched');
  if (r?.ok) {
    t.same(r.block, A_BLOCK.block);
    t.equal(r.hops, 1);
  }
  t.same(net.trace(isBlockMsg), ['ROUTE A>B', 'BLOCK_REPLY B>A']);
  t.equal(a.store.stats().store.count + a.store.stats().cache.count, 0, 'nothing written to the originator');
  t.equal(b.core.stats().blocksServed, 1);
});

t.test('a hit at the end of the route: relaying hops verify and cache, the reply retraces the path', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 5), c = node(net, 'C', 0);
  net.know(a.core, b.core);
  net.know(b.core, c.core, a.core);
  c.store.put('CHK', KEY, A_BLOCK.block, 'store');
  const rid = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  const r = net.fetches.get(rid);
  t.ok(r?.ok && r.hops === 2, 'fetched in 2 hops');
  t.same(net.trace(isBlockMsg), ['ROUTE A>B', 'ROUTE B>C', 'ROUTE_ACCEPTED B>A', 'BLOCK_REPLY C>B', 'BLOCK_REPLY B>A']);
  t.equal(b.store.stats().cache.count, 1, 'B cached it');
  t.equal(b.store.stats().store.count, 0, 'in the cache role, not the store');
  t.equal(a.store.stats().cache.count + a.store.stats().store.count, 0, 'A kept nothing');
  t.equal(b.core.stats().activeRequests, 0);

  // the second fetch is answered by B's cache
  net.log.length = 0;
  const rid2 = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  t.ok(net.fetches.get(rid2)?.ok);
  t.same(net.trace(isBlockMsg), ['ROUTE A>B', 'BLOCK_REPLY B>A']);
});

t.test('nobody holds it: the closest node answers NOT_FOUND, which travels back after backtracking', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b1 = node(net, 'B1', 3), b2 = node(net, 'B2', 5), c = node(net, 'C', 0);
  net.know(a.core, b1.core, b2.core);
  net.know(b1.core, c.core);
  net.know(b2.core, c.core);
  const rid = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  t.same(net.fetches.get(rid), { ok: false, reason: 'NOT_FOUND' });
  const rejects = net.log.filter((s) => s.msg.type === 'ROUTE_REJECT').map((s) => `${s.from}>${s.to} ${s.msg.type === 'ROUTE_REJECT' && s.msg.reason}`);
  t.same(rejects, ['C>B1 NOT_FOUND', 'B1>A NOT_FOUND', 'C>B2 NOT_FOUND', 'B2>A NOT_FOUND'], 'A backtracked to B2 first');
  t.equal(c.core.stats().blocksNotFound, 1, 'C searched once; the second copy got its remembered answer');
  for (const x of [a, b1, b2, c]) t.equal(x.core.stats().activeRequests, 0);
});

t.test('a peer returning a corrupted block: detected, its standing drops, the block comes another way', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), bad = node(net, 'BAD', 2), b2 = node(net, 'B2', 5), c = node(net, 'C', 0);
  net.know(a.core, bad.core, b2.core);
  net.know(bad.core, c.core);
  net.know(b2.core, c.core);
  c.store.put('CHK', KEY, A_BLOCK.block, 'store');
  net.corrupt.add(idHex(bad.core.id));
  const rid = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  const r = net.fetches.get(rid);
  t.ok(r?.ok, 'fetched despite the corrupting peer');
  if (r?.ok) t.same(r.block, A_BLOCK.block, 'the genuine block');
  t.same(net.trace((s) => (s.msg.type === 'ROUTE' || s.msg.type === 'BLOCK_REPLY') && (s.from === 'A' || s.to === 'A')), [
    'ROUTE A>BAD',
    'BLOCK_REPLY BAD>A',
    'ROUTE A>B2',
    'BLOCK_REPLY B2>A',
  ]);
  t.equal(a.core.stats().badBlocks, 1);
  t.equal(a.core.table.get(bad.core.id)?.badBlocks, 1, 'a bad block against BAD');
  t.equal(a.core.table.get(b2.core.id)?.badBlocks, 0);

  // BAD is now tried after the honest peer; a second bad block evicts and bans it
  net.log.length = 0;
  const rid2 = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  t.ok(net.fetches.get(rid2)?.ok);
  t.equal(net.trace((s) => s.msg.type === 'ROUTE' && s.from === 'A')[0], 'ROUTE A>B2', 'the honest peer first now');
  // make BAD (which cached the genuine block on the first fetch) the only way, and let it cheat again
  net.kill(b2.core);
  const rid3 = net.fetch(a.core, 'CHK', KEY);
  net.flush();
  net.advance(ACK);
  t.equal(a.core.table.get(bad.core.id), undefined, 'BAD evicted after its second bad block');
  t.equal(a.core.table.offer(bad.core.self, net.now).status, 'banned', 'and refused when offered again');
  t.notOk(net.fetches.get(rid3)?.ok, 'no honest route left: the fetch fails rather than return a bad block');
});

t.test('an insert is stored by the closest node and its replicas, cached on the path, not by the originator', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 6), c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2);
  net.know(a.core, b.core);
  net.know(b.core, c.core, a.core);
  net.know(c.core, d.core, e.core, b.core);
  const rid = net.insert(a.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  t.same(net.inserts.get(rid), { ok: true, stored: 3, hops: 2 });
  t.equal(c.store.stats().store.count, 1, 'C (closest) stores');
  t.equal(d.store.stats().store.count, 1, 'D stores a replica');
  t.equal(e.store.stats().store.count, 1, 'E stores a replica');
  t.equal(b.store.stats().cache.count, 1, 'B caches');
  t.equal(a.store.stats().store.count + a.store.stats().cache.count, 0, 'A keeps nothing');
  const replicaRoutes = net.log.filter((s) => s.msg.type === 'ROUTE' && s.msg.purpose === 'STORE_BLOCK');
  t.same(replicaRoutes.map((s) => `${s.from}>${s.to}`), ['C>D', 'C>E']);
  const routeIds = new Set(net.log.filter((s) => s.msg.type === 'ROUTE').map((s) => s.msg.type === 'ROUTE' && idHex(s.msg.id)));
  t.equal(routeIds.size, 3, 'each replica has a fresh request id');

  // and a fetch from elsewhere now finds it
  const f = node(net, 'F', 14);
  net.know(f.core, e.core);
  const rf = net.fetch(f.core, 'CHK', KEY);
  net.flush();
  t.ok(net.fetches.get(rf)?.ok);
});

t.test('a dead replica: the closest node answers after the ack timeout with the copies it got', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2);
  net.know(a.core, c.core);
  net.know(c.core, d.core, e.core);
  net.kill(e.core);
  const rid = net.insert(a.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  t.notOk(net.inserts.has(rid), 'waiting for E');
  t.ok(net.log.some((s) => s.msg.type === 'ROUTE_ACCEPTED' && s.from === 'C'), 'C told A it took the request');
  net.advance(ACK);
  t.same(net.inserts.get(rid), { ok: true, stored: 2, hops: 1 });
  t.equal(c.core.table.get(e.core.id)?.failures, 1, 'the silent replica counts as a failure');
});

t.test('the originator closest to the key sends all its copies to replicas and keeps none', async (t) => {
  const net = new TestNet();
  const c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2), f = node(net, 'F', 3);
  net.know(c.core, d.core, e.core, f.core);
  const rid = net.insert(c.core, 'CHK', KEY, A_BLOCK.block);
  net.flush();
  t.same(net.inserts.get(rid), { ok: true, stored: 3, hops: 0 });
  t.equal(c.store.stats().store.count + c.store.stats().cache.count, 0);
  for (const x of [d, e, f]) t.equal(x.store.stats().store.count, 1);
});

t.test('an insert asking for more copies gets them, up to the cap', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 6);
  const near = [0, 1, 2, 3, 4, 5].map((i) => node(net, `N${i}`, i));
  net.know(a.core, b.core);
  net.know(b.core, near[0].core, a.core);
  net.know(near[0].core, ...near.slice(1).map((n) => n.core), b.core);
  const rid = net.fetch(a.core, 'CHK', KEY); // nothing there yet
  net.flush();
  t.equal(net.fetches.get(rid)?.ok, false);
  const ins = a.core.insertBlock('CHK', KEY, A_BLOCK.block, net.now, 6);
  net.handle(a.core, ins.outputs);
  net.flush();
  t.same(net.inserts.get(idHex(ins.requestId)), { ok: true, stored: 6, hops: 2 }, 'six copies stored');
  for (const n of near) t.equal(n.store.stats().store.count, 1);
  const routes = net.log.filter((s) => s.msg.type === 'ROUTE' && s.msg.purpose === 'PUT_BLOCK');
  t.ok(routes.every((s) => s.msg.type === 'ROUTE' && s.msg.copies === 6), 'the request carries the count to the end node');
  t.throws(() => a.core.insertBlock('CHK', KEY, A_BLOCK.block, net.now, 9), RangeError, 'beyond BLOCK_COPIES_MAX');
  t.throws(() => a.core.insertBlock('CHK', KEY, A_BLOCK.block, net.now, 0), RangeError);
});

t.test('a bad inserted block is dropped in silence and counted against the sender', async (t) => {
  const net = new TestNet();
  const x = node(net, 'X', 12), b = node(net, 'B', 4), c = node(net, 'C', 0);
  net.know(b.core, c.core, x.core);
  const block = A_BLOCK.block.slice();
  block[100] ^= 1;
  const { encodeMessage } = await import('../../routing/messages.ts');
  const id = new Uint8Array(16).fill(3);
  net.inject(x.core.id, b.core, encodeMessage({ type: 'ROUTE', id, key: KEY, htl: 10, purpose: 'PUT_BLOCK', kind: 'CHK', block }));
  net.inject(x.core.id, b.core, encodeMessage({ type: 'ROUTE', id, key: KEY, htl: 1, purpose: 'STORE_BLOCK', kind: 'CHK', block }));
  net.flush();
  t.same(net.trace(), ['ROUTE X>B', 'ROUTE X>B'], 'no answer, nothing forwarded');
  t.equal(b.core.stats().badBlocks, 2);
  t.equal(b.core.table.get(x.core.id), undefined, 'evicted after two bad blocks');
  t.equal(b.store.stats().cache.count + b.store.stats().store.count, 0);
});

t.test('an insert that says its block is verified skips the check here, but the first hop still refuses a wrong one', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 4), c = node(net, 'C', 0);
  net.know(a.core, b.core);
  net.know(b.core, c.core, a.core);
  const wrong = A_BLOCK.block.slice();
  wrong[7] ^= 1;
  const ins = a.core.insertBlock('CHK', KEY, wrong, net.now, undefined, { verified: true }); // no RangeError: trusted
  net.handle(a.core, ins.outputs);
  net.flush();
  t.notOk(net.inserts.get(idHex(ins.requestId))?.ok, 'the insert does not succeed');
  t.equal(b.core.stats().badBlocks, 1, 'B caught it');
  t.equal(b.store.stats().cache.count + c.store.stats().store.count, 0, 'nobody keeps it');
  const good = a.core.insertBlock('CHK', KEY, A_BLOCK.block, net.now + 1, undefined, { verified: true });
  t.ok(good.outputs.length > 0, 'a right block goes out as usual');
});

t.test('API misuse: a block that does not match its key, a block purpose through lookup', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 5);
  const other = chkEncode(utf8('other'));
  t.throws(() => a.core.insertBlock('CHK', KEY, other.block, net.now), RangeError);
  t.throws(() => a.core.lookup(KEY, net.now, { purpose: 'GET_BLOCK' }), TypeError);
  t.throws(() => a.core.fetchBlock('XYZ' as 'CHK', KEY, net.now), TypeError);
  t.throws(() => a.core.fetchBlock('CHK', new Uint8Array(31), net.now), TypeError);
});
