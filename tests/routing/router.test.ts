// Recursive routing on small hand-built topologies (routing/router.ts through NodeCore): forwarding
// to closer peers, replies along the reverse path, loop rejects, backtracking after a timeout, a
// REJECT or a dropped link, hops-to-live exhaustion and the randomised HTL start.
// Roles are picked by distance to the key: ids sorted closest first, so ids[0] is the closest.
import t from 'tap';
import { HTL_MAX, HTL_START_SPREAD } from '../../routing/constants.ts';
import { idEquals, idHex } from '../../routing/keyspace.ts';
import { encodeMessage, type RouteMsg } from '../../routing/messages.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { byDistance, makeIdentities, TestNet } from './harness.ts';

const ALL = makeIdentities(16, 7);
const keyRng = new SeededRandom(99);
const KEY = keyRng.bytes(32);
const S = byDistance(ALL, KEY); // S[0] closest to KEY
const ACK = 2000;
const REPLY = 20_000;
const policy = { ackTimeoutMs: ACK, replyTimeoutMs: REPLY };
const isRoute = (s: { msg: { type: string } }) => s.msg.type.startsWith('ROUTE');

function routeMsg(id: Uint8Array, htl: number, key = KEY): Uint8Array {
  return encodeMessage({ type: 'ROUTE', id, key, htl, purpose: 'FIND_NODE' });
}

t.test('a request goes hop by hop to the closest node and the reply comes back the same way', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[10], policy), b = net.add('B', S[4], policy), c = net.add('C', S[0], policy);
  net.know(a, b);
  net.know(b, c, a);
  net.know(c, b, a); // C knows only farther nodes
  const rid = net.lookup(a, KEY);
  net.flush();
  const r = net.results.get(rid);
  t.ok(r?.ok, 'lookup succeeded');
  if (r?.ok) {
    t.ok(idEquals(r.node.id, c.id), 'reached C, the closest');
    t.equal(r.hops, 2);
  }
  t.same(net.trace(isRoute), ['ROUTE A>B', 'ROUTE B>C', 'ROUTE_ACCEPTED B>A', 'ROUTE_REPLY C>B', 'ROUTE_REPLY B>A']);
  t.notOk(net.log.some((s) => s.from === 'A' && s.to === 'C'), 'A never talks to C');
  t.notOk(net.log.some((s) => s.from === 'C' && s.to === 'A'), 'C never talks to A');
  t.equal(b.stats().activeRequests, 0, 'B forgot the request once it was answered');
});

t.test('the originator that is itself the closest answers at once with 0 hops', async (t) => {
  const net = new TestNet();
  const c = net.add('C', S[0]), b = net.add('B', S[3]);
  net.know(c, b);
  const rid = net.lookup(c, KEY);
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, c.id) && r.hops === 0);
  t.equal(net.queue.length, 0, 'no message sent');
});

t.test('a request id still being handled is rejected as a loop; once answered, a retry is served', async (t) => {
  const net = new TestNet();
  const x = net.add('X', S[12]);
  const b = net.add('B', S[5]);
  const c = net.add('C', S[0]);
  net.know(b, c);
  const id = new Uint8Array(16).fill(7);
  net.inject(x.id, b, routeMsg(id, 10));
  net.step(); // B takes it and forwards to C
  net.inject(x.id, b, routeMsg(id, 10)); // the same id again while B handles it
  net.flush();
  const rejects = net.log.filter((s) => s.msg.type === 'ROUTE_REJECT' && s.to === 'X');
  t.equal(rejects.length, 1);
  t.equal(rejects[0]?.msg.type === 'ROUTE_REJECT' && rejects[0].msg.reason, 'LOOP');
  t.equal(net.log.filter((s) => s.msg.type === 'ROUTE_REPLY' && s.from === 'B' && s.to === 'X').length, 1, 'the first copy was answered');

  net.log.length = 0;
  net.inject(x.id, b, routeMsg(id, 10)); // answered already: a retry after a lost reply
  net.flush();
  t.same(net.trace(), ['ROUTE X>B', 'ROUTE B>C', 'ROUTE_ACCEPTED B>X', 'ROUTE_REPLY C>B', 'ROUTE_REPLY B>X']);
});

t.test('no ACCEPTED in time: the sender backtracks to its next-best peer and counts a failure', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b1 = net.add('B1', S[2], policy), b2 = net.add('B2', S[5], policy), c = net.add('C', S[0], policy);
  net.know(a, b1, b2);
  net.know(b1, c);
  net.know(b2, c);
  net.kill(b1);
  const rid = net.lookup(a, KEY);
  net.flush();
  t.same(net.trace(isRoute), ['ROUTE A>B1'], 'tried the closest first');
  net.advance(ACK - 1);
  t.notOk(net.results.has(rid), 'still waiting');
  net.advance(1);
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, c.id) && r.hops === 2, 'reached C through B2');
  t.same(net.trace(isRoute).slice(0, 2), ['ROUTE A>B1', 'ROUTE A>B2']);
  t.equal(a.table.get(b1.id)?.failures, 1, 'B1 has one failure against it');
  t.equal(a.table.get(b2.id)?.failures, 0);
});

t.test('ACCEPTED but no reply in time: backtrack after the reply timeout', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b1 = net.add('B1', S[2], policy), b2 = net.add('B2', S[5], policy), c = net.add('C', S[0], policy);
  net.know(a, b1, b2);
  net.know(b1, c);
  net.know(b2, c);
  const rid = net.lookup(a, KEY);
  net.step(); // A>B1: B1 forwards to C and accepts
  net.kill(b1); // B1 dies before C's reply reaches it
  net.flush();
  t.ok(net.log.some((s) => s.msg.type === 'ROUTE_ACCEPTED' && s.from === 'B1'), 'B1 had accepted');
  net.advance(ACK + 1);
  t.notOk(net.results.has(rid), 'accepted: the short timeout no longer applies');
  net.advance(REPLY);
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, c.id), 'reached C through B2 after the reply timeout');
});

t.test('REJECT (overload) moves on to the next peer without counting a failure', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b1 = net.add('B1', S[2], { maxRequests: 0 }), b2 = net.add('B2', S[5], policy), c = net.add('C', S[0]);
  net.know(a, b1, b2);
  net.know(b1, c);
  net.know(b2, c);
  const rid = net.lookup(a, KEY);
  net.flush();
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, c.id));
  t.same(net.trace(isRoute).slice(0, 3), ['ROUTE A>B1', 'ROUTE_REJECT B1>A', 'ROUTE A>B2']);
  t.equal(a.table.get(b1.id)?.failures, 0, 'a peer that answers is alive');
});

t.test('an intermediate hop backtracks on its own; the originator sees only success', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b = net.add('B', S[6], policy), c1 = net.add('C1', S[0], policy), c2 = net.add('C2', S[1], policy);
  net.know(a, b);
  net.know(b, c1, c2);
  net.know(c2, b); // C2 does not know C1
  net.kill(c1);
  const rid = net.lookup(a, KEY);
  net.flush();
  net.advance(ACK);
  const r = net.results.get(rid);
  // C1 is dead, so C2 is the closest live node
  t.ok(r?.ok && idEquals(r.node.id, c2.id) && r.hops === 2);
  t.same(net.trace((s) => s.msg.type === 'ROUTE'), ['ROUTE A>B', 'ROUTE B>C1', 'ROUTE B>C2']);
});

t.test('when every closer peer is dead, a hop answers as the closest live node', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b = net.add('B', S[6], policy), c = net.add('C', S[0], policy);
  net.know(a, b);
  net.know(b, c);
  net.kill(c);
  const rid = net.lookup(a, KEY);
  net.flush();
  net.advance(ACK);
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, b.id) && r.hops === 1);
});

t.test('when closer peers refuse, the hop answers NO_ROUTE and its predecessor backtracks or fails', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b = net.add('B', S[6], policy), c = net.add('C', S[0], { maxRequests: 0 });
  net.know(a, b);
  net.know(b, c);
  const rid = net.lookup(a, KEY);
  net.flush();
  t.same(net.results.get(rid), { ok: false, reason: 'NO_ROUTE' });
  t.same(net.trace(isRoute), ['ROUTE A>B', 'ROUTE B>C', 'ROUTE_ACCEPTED B>A', 'ROUTE_REJECT C>B', 'ROUTE_REJECT B>A']);
});

t.test('hops-to-live: a hop that would forward with 0 rejects HTL, and HTL failures are not retried', async (t) => {
  const net = new TestNet();
  const x = net.add('X', S[15]);
  const b = net.add('B', S[8]), c = net.add('C', S[4]), c2 = net.add('C2', S[5]), d = net.add('D', S[0]);
  net.know(b, c, c2);
  net.know(c, d);
  net.inject(x.id, b, routeMsg(new Uint8Array(16).fill(1), 1));
  net.flush();
  t.same(net.trace(), ['ROUTE X>B', 'ROUTE_REJECT B>X']);
  t.equal(net.log[1].msg.type === 'ROUTE_REJECT' && net.log[1].msg.reason, 'HTL');

  net.log.length = 0;
  net.inject(x.id, b, routeMsg(new Uint8Array(16).fill(2), 2));
  net.flush();
  t.same(net.trace(isRoute), ['ROUTE X>B', 'ROUTE B>C', 'ROUTE_ACCEPTED B>X', 'ROUTE_REJECT C>B', 'ROUTE_REJECT B>X']);
  const fwd = net.log[1].msg as RouteMsg;
  t.equal(fwd.htl, 1, 'decremented below the maximum');
  t.equal(net.log[4].msg.type === 'ROUTE_REJECT' && net.log[4].msg.reason, 'HTL', 'propagated as HTL');

  // the closest node answers even with the last hop of its budget
  net.log.length = 0;
  net.inject(x.id, d, routeMsg(new Uint8Array(16).fill(3), 1));
  net.flush();
  t.same(net.trace(), ['ROUTE X>D', 'ROUTE_REPLY D>X']);
});

t.test('the originator starts at a random HTL near the maximum; a hop at the maximum decides per peer', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12]), b = net.add('B', S[6]), c = net.add('C', S[0]);
  net.know(a, b);
  net.know(b, c);
  const starts = new Set<number>();
  for (let i = 0; i < 40; i++) {
    net.log.length = 0;
    net.lookup(a, KEY);
    net.flush();
    const first = net.log.find((s) => s.msg.type === 'ROUTE' && s.from === 'A')!.msg as RouteMsg;
    starts.add(first.htl);
  }
  for (const h of starts) t.ok(h >= HTL_MAX - HTL_START_SPREAD && h <= HTL_MAX, `start ${h} in range`);
  t.ok(starts.size >= 2, `several start values (${[...starts].join(',')})`);

  const x = net.add('X', S[15]);
  const seen = new Set<number>();
  for (let i = 0; i < 8; i++) {
    net.log.length = 0;
    net.inject(x.id, b, routeMsg(new Uint8Array(16).fill(100 + i), HTL_MAX));
    net.flush();
    seen.add((net.log.find((s) => s.msg.type === 'ROUTE' && s.from === 'B')!.msg as RouteMsg).htl);
  }
  t.equal(seen.size, 1, 'the same choice every time for the same next hop');
  t.ok([HTL_MAX, HTL_MAX - 1].includes([...seen][0]));
});

t.test('the originator gives up at its lookup timeout', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], { ackTimeoutMs: 5000, lookupTimeoutMs: 1000 }), b = net.add('B', S[3]);
  net.know(a, b);
  net.kill(b);
  const rid = net.lookup(a, KEY);
  net.flush();
  net.advance(999);
  t.notOk(net.results.has(rid));
  net.advance(1);
  t.same(net.results.get(rid), { ok: false, reason: 'TIMEOUT' });
  t.equal(a.stats().activeRequests, 0);
});

t.test('a dropped link moves the request on at once', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b1 = net.add('B1', S[2]), b2 = net.add('B2', S[5]), c = net.add('C', S[0]);
  net.know(a, b1, b2);
  net.know(b2, c);
  net.kill(b1);
  const rid = net.lookup(a, KEY);
  net.flush();
  net.handle(a, a.peerDisconnected(b1.id, net.now));
  net.flush();
  const r = net.results.get(rid);
  t.ok(r?.ok && idEquals(r.node.id, c.id), 'done without waiting for a timeout');
});

t.test('answers from peers that were not asked are ignored', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b = net.add('B', S[3]), x = net.add('X', S[1]);
  net.know(a, b);
  net.kill(b);
  const rid = net.lookup(a, KEY);
  net.flush();
  const id = Buffer.from(rid, 'hex');
  net.inject(x.id, a, encodeMessage({ type: 'ROUTE_REPLY', id, hops: 0, node: x.self.bytes }));
  net.inject(x.id, a, encodeMessage({ type: 'ROUTE_REJECT', id, reason: 'HTL' }));
  net.flush();
  t.notOk(net.results.has(rid), 'neither a reply nor a reject from X counts');
  t.equal(idHex(id), rid);
});

t.test('a reply whose descriptor does not check fails the lookup at the originator', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b = net.add('B', S[3]);
  net.know(a, b);
  net.kill(b);
  const rid = net.lookup(a, KEY);
  net.flush();
  const bad = b.self.bytes.slice();
  bad[bad.length - 1] ^= 1; // break the signature
  net.dead.delete(idHex(b.id));
  net.inject(b.id, a, encodeMessage({ type: 'ROUTE_REPLY', id: Buffer.from(rid, 'hex'), hops: 0, node: bad }));
  net.flush();
  t.same(net.results.get(rid), { ok: false, reason: 'BAD_REPLY' });
});

t.test('one predecessor cannot take every request slot', async (t) => {
  const net = new TestNet();
  const x = net.add('X', S[14]), y = net.add('Y', S[13]);
  const b = net.add('B', S[6], { maxRequestsPerPeer: 2, maxRequests: 10 }), c = net.add('C', S[0]);
  net.know(b, c);
  net.kill(c); // requests stay in progress at B
  for (let i = 0; i < 3; i++) net.inject(x.id, b, routeMsg(new Uint8Array(16).fill(40 + i), 10));
  net.inject(y.id, b, routeMsg(new Uint8Array(16).fill(50), 10));
  net.flush();
  const toX = net.log.filter((s) => s.to === 'X').map((s) => s.msg.type === 'ROUTE_REJECT' ? s.msg.reason : s.msg.type);
  t.same(toX, ['ROUTE_ACCEPTED', 'ROUTE_ACCEPTED', 'OVERLOAD']);
  t.same(net.log.filter((s) => s.to === 'Y').map((s) => s.msg.type), ['ROUTE_ACCEPTED'], 'another peer is still served');
  net.advance(ACK); // C never answers: B answers as the closest live node and frees the slots
  net.log.length = 0;
  net.inject(x.id, b, routeMsg(new Uint8Array(16).fill(60), 10));
  net.flush();
  t.ok(net.log.some((s) => s.to === 'X' && s.msg.type !== 'ROUTE_REJECT'), 'slots are released when requests finish');
});

t.test('after maxAttempts next hops a node gives up with NO_ROUTE, even with candidates left', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], { ...policy, maxAttempts: 2 });
  const bs = [S[1], S[2], S[3]].map((id, i) => net.add(`B${i}`, id));
  net.know(a, ...bs);
  bs.forEach((b) => net.kill(b));
  const rid = net.lookup(a, KEY);
  net.flush();
  net.advance(ACK);
  net.advance(ACK);
  t.same(net.results.get(rid), { ok: false, reason: 'NO_ROUTE' });
  t.same(net.trace((s) => s.msg.type === 'ROUTE'), ['ROUTE A>B0', 'ROUTE A>B1']);
  t.equal(a.stats().exhausted, 1);
});

t.test('a peer that failed before is tried after the healthy ones', async (t) => {
  const net = new TestNet();
  const a = net.add('A', S[12], policy), b1 = net.add('B1', S[1]), b2 = net.add('B2', S[4]);
  net.know(a, b1, b2);
  a.table.markFailed(b1.id);
  net.lookup(a, KEY);
  net.flush();
  t.same(net.trace((s) => s.msg.type === 'ROUTE').slice(0, 1), ['ROUTE A>B2']);
});
