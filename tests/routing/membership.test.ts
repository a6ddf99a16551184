// Membership (routing/membership.ts through NodeCore): joining through bootstrap contacts, peer
// exchange answers and their limits, refusal of stale / future / badly signed / unsolicited /
// misattributed descriptors, bucket refresh, liveness pings and eviction of dead peers.
import t from 'tap';
import { DESCRIPTOR_MAX_AGE_MS, PEX_MAX } from '../../routing/constants.ts';
import { signDescriptor } from '../../routing/descriptor.ts';
import { commonPrefixLength, compareDistance, idEquals, idHex } from '../../routing/keyspace.ts';
import { decodeMessage, encodeMessage, type PexRequestMsg, type PexResponseMsg } from '../../routing/messages.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { makeIdentities, makeIdentity, T0, TestNet } from './harness.ts';

const IDS = makeIdentities(48, 31);

t.test('nodes joining one by one through contacts form a network where every node finds every other', async (t) => {
  const net = new TestNet(5);
  const policy = { refreshIntervalMs: 60_000, maintenanceIntervalMs: 10_000 };
  const cores = IDS.slice(0, 40).map((id, i) => net.add(`N${i}`, id, policy));
  const rng = new SeededRandom(8);
  for (let i = 0; i < cores.length; i++) {
    const contacts = i === 0 ? [] : [cores[0].self.bytes, cores[rng.int(i)].self.bytes];
    net.handle(cores[i], cores[i].bootstrap(contacts, net.now));
    net.flush();
    net.advance(100);
  }
  for (let s = 0; s < 10; s++) net.advance(10_000); // a refresh period and more
  t.equal(net.joined.size, cores.length, 'every node reported joined');
  let ok = 0, total = 0;
  for (const from of cores) {
    for (let j = 0; j < 6; j++) {
      const target = cores[rng.int(cores.length)];
      const rid = net.lookup(from, target.id);
      net.flush();
      const r = net.results.get(rid);
      total++;
      if (r?.ok && idEquals(r.node.id, target.id)) ok++;
    }
  }
  t.equal(ok, total, `${ok}/${total} lookups reached their target`);
  const sizes = cores.map((c) => c.table.size);
  t.ok(Math.min(...sizes) >= 20, `tables filled (min ${Math.min(...sizes)})`);
});

t.test('a PEX answer: at most `max`, closest first, ourselves included when close, never the asker or failing peers', async (t) => {
  const net = new TestNet();
  const r = net.add('R', IDS[0]);
  const q = net.add('Q', IDS[1]);
  const others = IDS.slice(2, 40).map((id, i) => net.add(`O${i}`, id));
  net.know(r, q, ...others);
  const suspect = others[5];
  r.table.markFailed(suspect.id);
  for (const [target, max] of [[IDS[0].desc.id, 6], [IDS[7].desc.id, 3], [new SeededRandom(1).bytes(32), PEX_MAX]] as const) {
    net.log.length = 0;
    net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8).fill(1), target, max }));
    net.step();
    net.step();
    const resp = net.log[1].msg as PexResponseMsg;
    t.equal(resp.type, 'PEX_RESPONSE');
    t.equal(resp.descriptors.length, max);
    const ids = resp.descriptors.map((b) => net.descriptors.read(b, net.now).id);
    for (let i = 1; i < ids.length; i++) t.ok(compareDistance(ids[i - 1], ids[i], target) < 0, 'closest first');
    t.notOk(ids.some((id) => idEquals(id, q.id)), 'not the asker');
    t.notOk(ids.some((id) => idEquals(id, suspect.id)), 'not a failing peer');
    const candidates = [r, ...others.filter((o) => o !== suspect)].map((c) => c.id).sort((a, b) => compareDistance(a, b, target));
    t.same(ids.map(idHex), candidates.slice(0, max).map(idHex), 'exactly the closest, ourselves counted');
  }
});

t.test('a PEX response is taken only from the peer asked, for the nonce sent; bad descriptors are skipped', async (t) => {
  const net = new TestNet();
  const x = net.add('X', IDS[0]);
  const y = net.add('Y', IDS[1]);
  const z = net.add('Z', IDS[2]);
  net.handle(x, x.bootstrap([y.self.bytes], net.now)); // X asks Y
  const req = decodeMessage(net.queue[0].bytes) as PexRequestMsg;
  t.equal(req.type, 'PEX_REQUEST');
  t.ok(idEquals(net.queue[0].to, y.id));
  t.ok(req.self !== undefined && idEquals(net.descriptors.read(req.self, net.now).id, x.id), 'it carries our descriptor');
  net.queue.length = 0;

  const rng = new SeededRandom(77);
  const fresh = makeIdentity(rng, 1);
  const stale = makeIdentity(rng, 2, T0 - DESCRIPTOR_MAX_AGE_MS - 1);
  const future = makeIdentity(rng, 3, T0 + 3600_000);
  const forgedId = makeIdentity(rng, 4);
  const forged = signDescriptor(forgedId.fields, rng.bytes(32)); // signed by the wrong key
  const unasked = makeIdentity(rng, 5);
  const respond = (from: typeof y, nonce: Uint8Array, ds: Uint8Array[]) =>
    net.inject(from.id, x, encodeMessage({ type: 'PEX_RESPONSE', nonce, descriptors: ds }));
  respond(y, new Uint8Array(8), [unasked.desc.bytes]); // wrong nonce
  respond(z, req.nonce, [unasked.desc.bytes]); // right nonce, wrong peer
  net.flush();
  t.equal(x.table.get(unasked.desc.id), undefined, 'unsolicited answers are dropped');
  const badBefore = x.stats().badDescriptors;
  respond(y, req.nonce, [stale.desc.bytes, future.desc.bytes, forged, rng.bytes(170), fresh.desc.bytes]);
  net.step();
  t.ok(x.table.get(fresh.desc.id), 'the good one is in');
  for (const d of [stale, future, forgedId]) t.equal(x.table.get(d.desc.id), undefined, 'the bad ones are not');
  t.equal(x.stats().badDescriptors - badBefore, 4);
  net.queue.length = 0;
  respond(y, req.nonce, [unasked.desc.bytes]); // the same nonce twice
  net.step();
  t.equal(x.table.get(unasked.desc.id), undefined, 'an answer is taken once');
});

t.test("a PEX request's own descriptor must be the sender's", async (t) => {
  const net = new TestNet();
  const r = net.add('R', IDS[0]);
  const q = net.add('Q', IDS[1]);
  const other = IDS[2];
  net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8), target: q.id, max: 4, self: other.desc.bytes }));
  net.flush();
  t.equal(r.table.get(other.desc.id), undefined, "someone else's descriptor is not taken");
  t.equal(r.table.get(q.id), undefined);
  net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8), target: q.id, max: 4, self: q.self.bytes }));
  net.flush();
  t.ok(r.table.get(q.id), 'its own is');
});

t.test('PEX answers are rate-limited; the excess gets silence', async (t) => {
  const net = new TestNet();
  const r = net.add('R', IDS[0], { pexServePerSec: 2 }); // burst of 4
  const q = net.add('Q', IDS[1]);
  for (let i = 0; i < 10; i++) net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8).fill(i), target: q.id, max: 4 }));
  net.flush();
  t.equal(net.log.filter((s) => s.msg.type === 'PEX_RESPONSE').length, 4);
  net.now += 1000;
  net.log.length = 0;
  for (let i = 0; i < 5; i++) net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8).fill(i), target: q.id, max: 4 }));
  net.flush();
  t.equal(net.log.filter((s) => s.msg.type === 'PEX_RESPONSE').length, 2, 'refilled at the configured rate');
  t.equal(r.stats().pexDropped, 9);
});

t.test('a silent peer is pinged; a dead one is evicted after repeated failures, a live one stays', async (t) => {
  const policy = { silentPingMs: 5_000, silentPingsPerChore: 10, maintenanceIntervalMs: 10_000, pingTimeoutMs: 1_000, refreshIntervalMs: 3600_000 };
  const net = new TestNet();
  const x = net.add('X', IDS[0], policy);
  const live = net.add('L', IDS[1]);
  const dead = net.add('D', IDS[2]);
  net.know(x, live, dead);
  net.kill(dead);
  for (let i = 0; i < 3; i++) net.advance(10_000); // chores ping both; pings to D time out
  for (let i = 0; i < 3; i++) net.advance(1_000);
  t.ok(net.log.some((s) => s.msg.type === 'PING' && s.to === 'D'));
  t.ok(net.log.some((s) => s.msg.type === 'PONG' && s.from === 'L'));
  t.equal(x.table.get(dead.id), undefined, 'D evicted');
  t.ok(x.table.get(live.id), 'L kept');
  t.equal(x.table.get(live.id)?.failures, 0);
});

t.test('a bucket with room is refreshed with a lookup for a key in its range', async (t) => {
  const policy = { refreshIntervalMs: 30_000, maintenanceIntervalMs: 10_000 };
  const net = new TestNet();
  const x = net.add('X', IDS[0], policy);
  const peers = IDS.slice(1, 12).map((id, i) => net.add(`P${i}`, id, policy));
  net.know(x, ...peers);
  for (const p of peers) net.know(p, x, ...peers.filter((q) => q !== p));
  net.log.length = 0;
  net.advance(30_000);
  const targets = net.log.filter((s) => s.msg.type === 'PEX_REQUEST' && s.from === 'X').map((s) => (s.msg as PexRequestMsg).target);
  t.ok(targets.length > 0, 'refresh lookups were sent');
  const buckets = new Set(targets.filter((k) => !idEquals(k, x.id)).map((k) => commonPrefixLength(x.id, k)));
  t.ok(buckets.size > 0, 'besides the self-lookup');
  for (const b of buckets) t.ok(x.table.bucketRefreshedAt(b) >= T0 + 30_000, `bucket ${b} marked refreshed`);
  net.log.length = 0;
  net.advance(10_000);
  t.equal(net.log.filter((s) => s.msg.type === 'PEX_REQUEST' && s.from === 'X').length, 0, 'not again before the interval');
});

t.test('hostile bytes never throw out of the core and get no answer', async (t) => {
  const net = new TestNet();
  const r = net.add('R', IDS[0]);
  const q = net.add('Q', IDS[1]);
  net.know(r, q);
  const rng = new SeededRandom(4);
  const valid = [
    encodeMessage({ type: 'PEX_REQUEST', nonce: rng.bytes(8), target: rng.bytes(32), max: 4, self: q.self.bytes }),
    encodeMessage({ type: 'ROUTE', id: rng.bytes(16), key: rng.bytes(32), htl: 5, purpose: 'FIND_NODE' }),
    encodeMessage({ type: 'ROUTE_REPLY', id: rng.bytes(16), hops: 1, node: q.self.bytes }),
  ];
  let answered = 0;
  for (let i = 0; i < 2000; i++) {
    let b = i % 2 === 0 ? rng.bytes(rng.int(300)) : valid[rng.int(valid.length)].slice();
    if (i % 2 === 1) for (let f = 0; f < 1 + rng.int(3); f++) b[rng.int(b.length)] = rng.int(256);
    if (i % 5 === 0) b = b.subarray(0, rng.int(b.length + 1));
    const out = r.receive(q.id, b, net.now);
    answered += out.filter((o) => o.kind === 'send').length;
  }
  t.ok(r.stats().dropped > 1000, `dropped ${r.stats().dropped}`);
  t.ok(answered < 1000, 'only what decoded was answered');
  t.same(r.receive(new Uint8Array(5), valid[0], net.now).filter((o) => o.kind === 'send'), [], 'a malformed sender id is dropped');
});

t.test('a node whose table emptied starts over from its bootstrap contacts', async (t) => {
  const policy = { maintenanceIntervalMs: 10_000, pexTimeoutMs: 1_000, pingTimeoutMs: 1_000 };
  const net = new TestNet();
  const x = net.add('X', IDS[0], policy);
  const y = net.add('Y', IDS[1], policy);
  net.kill(y);
  net.handle(x, x.bootstrap([y.self.bytes], net.now));
  net.flush();
  let steps = 0;
  while (x.table.get(y.id) !== undefined && steps++ < 120) net.advance(1_000);
  t.ok(net.joined.has(idHex(x.id)), 'the join ended even with a dead contact');
  t.equal(x.table.get(y.id), undefined, `the dead contact was evicted (after ${steps} s)`);
  net.dead.delete(idHex(y.id)); // Y comes back
  steps = 0;
  while (y.table.get(x.id) === undefined && steps++ < 120) net.advance(1_000);
  t.ok(y.table.get(x.id), `Y heard from X again through X's contact list (after ${steps} s)`);
  t.ok(x.table.get(y.id), 'and X has Y');
});
