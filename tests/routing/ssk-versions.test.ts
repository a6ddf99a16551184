// Updatable SSK blocks over the overlay (routing/block-requests.ts, GET_BLOCK of an SSK and PEEK_BLOCK):
// a stale copy met on the way, or held by the closest node, never hides a newer version that one
// of the closest nodes holds; the originator's own stale copy does not end its search; a peer that
// answers a peek with a forged block is caught and the honest newest version still comes back.
import t from 'tap';
import { sskEncode, sskKeypair, sskVersion } from '../../crypto/ssk.ts';
import { utf8 } from '../../crypto/bytes.ts';
import type { NodeCore } from '../../routing/node-core.ts';
import { MemoryStore } from '../../store/memory-store.ts';
import { byDistance, makeIdentities, TestNet } from './harness.ts';

const KP = sskKeypair();
const version = (v: number) => sskEncode({ seed: KP.seed, cryptoKey: KP.cryptoKey, docName: 'doc', version: v, payload: utf8(`version ${v}`) });
const V1 = version(1), V2 = version(2), V3 = version(3);
const KEY = V1.routingKey;
const S = byDistance(makeIdentities(16, 23), KEY);
const ACK = 2000;
const policy = { ackTimeoutMs: ACK, replyTimeoutMs: 20_000 };

function node(net: TestNet, name: string, i: number): { core: NodeCore; store: MemoryStore } {
  const store = new MemoryStore({ maxBytes: 4 << 20 });
  return { core: net.add(name, S[i], policy, undefined, store), store };
}

function fetched(net: TestNet, rid: string): number | string {
  const r = net.fetches.get(rid);
  if (r === undefined) return 'pending';
  return r.ok ? sskVersion(r.block) : r.reason;
}

t.test('same routing key for every version', async (t) => {
  t.same(V2.routingKey, KEY);
  t.same(V3.routingKey, KEY);
});

t.test('a stale cached copy on the way and a stale closest node: the newest replica version wins', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 6), c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2);
  net.know(a.core, b.core);
  net.know(b.core, c.core, a.core);
  net.know(c.core, d.core, e.core, b.core);
  t.ok(b.store.put('SSK', KEY, V1.block, 'cache'), 'B caches version 1');
  t.ok(c.store.put('SSK', KEY, V1.block, 'store'), 'C, the closest, holds version 1');
  t.ok(d.store.put('SSK', KEY, V3.block, 'store'), 'D holds version 3');
  t.ok(e.store.put('SSK', KEY, V2.block, 'store'), 'E holds version 2');
  const rid = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, rid), 3, 'version 3 comes back');
  const peeks = net.log.filter((s) => s.msg.type === 'ROUTE' && s.msg.purpose === 'PEEK_BLOCK').map((s) => `${s.from}>${s.to}`);
  t.same(peeks.sort(), ['C>D', 'C>E'], 'the closest node asked the next two closest');
  t.equal(sskVersion(b.store.get('SSK', KEY)!), 3, 'B now caches version 3');
  t.equal(sskVersion(c.store.get('SSK', KEY)!), 3, 'C, the closest, learned version 3 on the way back');
  t.equal(a.store.stats().cache.count + a.store.stats().store.count, 0, 'the originator kept nothing');
});

t.test('the originator holding an old version still asks the network', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), c = node(net, 'C', 0), d = node(net, 'D', 1);
  net.know(a.core, c.core);
  net.know(c.core, d.core);
  a.store.put('SSK', KEY, V1.block, 'store');
  d.store.put('SSK', KEY, V2.block, 'store');
  const rid = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, rid), 2);
});

t.test('nobody further holds it: a hop with a copy answers with it; nobody at all: NOT_FOUND', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), b = node(net, 'B', 6), c = node(net, 'C', 0);
  net.know(a.core, b.core);
  net.know(b.core, c.core);
  const none = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, none), 'NOT_FOUND');
  b.store.put('SSK', KEY, V2.block, 'cache');
  const rid = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, rid), 2, "B's copy, after C found nothing newer");
});

t.test('a silent peer: the closest node answers with what it has after the ack timeout', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2);
  net.know(a.core, c.core);
  net.know(c.core, d.core, e.core);
  c.store.put('SSK', KEY, V1.block, 'store');
  d.store.put('SSK', KEY, V2.block, 'store');
  net.kill(e.core);
  const rid = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, rid), 'pending', 'waiting for E');
  net.advance(ACK);
  t.equal(fetched(net, rid), 2);
  t.equal(c.core.table.get(e.core.id)?.failures, 1, 'the silent peer counts as a failure');
});

t.test('a forged answer to a peek is caught and counted; the honest newest version wins', async (t) => {
  const net = new TestNet();
  const a = node(net, 'A', 12), c = node(net, 'C', 0), d = node(net, 'D', 1), e = node(net, 'E', 2);
  net.know(a.core, c.core);
  net.know(c.core, d.core, e.core);
  e.store.put('SSK', KEY, V2.block, 'store');
  // D's store hands out a version 9 with a broken signature
  const forged = version(9).block.slice();
  forged[forged.length - 1] ^= 1;
  d.store.get = () => forged;
  const rid = net.fetch(a.core, 'SSK', KEY);
  net.flush();
  t.equal(fetched(net, rid), 2);
  t.equal(c.core.stats().badBlocks, 1, 'C caught the forged block');
  t.equal(c.core.table.get(d.core.id)?.badBlocks, 1, "and lowered D's standing");
});

t.test('a CHK hit still answers at once (no peeks for content blocks)', async (t) => {
  const { chkEncode } = await import('../../crypto/chk.ts');
  const chk = chkEncode(utf8('content'));
  const net = new TestNet();
  const ids = byDistance(makeIdentities(16, 23), chk.routingKey);
  const a = net.add('A', ids[12], policy, undefined, new MemoryStore({ maxBytes: 1 << 20 }));
  const bStore = new MemoryStore({ maxBytes: 1 << 20 });
  const b = net.add('B', ids[6], policy, undefined, bStore);
  net.know(a, b);
  bStore.put('CHK', chk.routingKey, chk.block, 'store');
  const rid = net.fetch(a, 'CHK', chk.routingKey);
  net.flush();
  t.ok(net.fetches.get(rid)?.ok);
  t.notOk(net.log.some((s) => s.msg.type === 'ROUTE' && s.msg.purpose === 'PEEK_BLOCK'));
});
