// Node descriptors (routing/descriptor.ts): sign → decode → check round trip, and every refusal:
// stale, future-dated, bad signature, wrong version, bad address, junk and trailing bytes; the
// memoising DescriptorCache verifies each distinct descriptor once and still checks times.
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { identityFromSecrets, nodeIdOf } from '../../crypto/identity.ts';
import { DESCRIPTOR_MAX_AGE_MS, DESCRIPTOR_MAX_SKEW_MS } from '../../routing/constants.ts';
import {
  checkDescriptor,
  decodeDescriptor,
  DescriptorCache,
  isValidAddress,
  plainReader,
  selfDescriptor,
  signDescriptor,
  type DescriptorFields,
} from '../../routing/descriptor.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { codec, struct, bytes as bytesSchema } from '../../routing/wire/schema.ts';

const rng = new SeededRandom(5);
const NOW = Date.UTC(2025, 5, 1);
const seed = rng.bytes(32);
const fields: DescriptorFields = {
  protocolVersion: 1,
  identityKey: nodeBackend.ed25519.publicKey(seed),
  onionKey: rng.bytes(32),
  addresses: ['198.51.100.7:7000', '[2001:db8::1]:443', 'node.example.org:9001'],
  timestamp: NOW,
};
const good = signDescriptor(fields, seed);
const code = (c: string) => ({ name: 'RoutingError', code: c });

t.test('round trip: the checked descriptor has the fields, the exact bytes and the node id', async (t) => {
  const u = decodeDescriptor(good);
  const d = checkDescriptor(u, NOW);
  t.same(d.addresses, fields.addresses);
  t.same(d.identityKey, fields.identityKey);
  t.same(d.onionKey, fields.onionKey);
  t.equal(d.timestamp, NOW);
  t.equal(d.protocolVersion, 1);
  t.equal(d.bytes, good, 'keeps the bytes it was given, for forwarding');
  t.same(d.id, nodeIdOf(fields.identityKey));
  t.ok(checkDescriptor(u, NOW, nobleBackend.ed25519), 'the noble verifier agrees');
  t.same(signDescriptor(fields, seed), good, 'deterministic encoding and signature');
});

t.test('times are checked: stale, future-dated, and the edges that are still fine', async (t) => {
  const u = decodeDescriptor(good);
  t.ok(checkDescriptor(u, NOW + DESCRIPTOR_MAX_AGE_MS));
  t.throws(() => checkDescriptor(u, NOW + DESCRIPTOR_MAX_AGE_MS + 1), code('STALE'));
  t.ok(checkDescriptor(u, NOW - DESCRIPTOR_MAX_SKEW_MS));
  t.throws(() => checkDescriptor(u, NOW - DESCRIPTOR_MAX_SKEW_MS - 1), code('FUTURE'));
  t.throws(() => checkDescriptor(u, NOW + 1000, undefined, { maxAgeMs: 999 }), code('STALE'), 'policy overrides');
});

t.test('bad signatures are refused, and cheap checks run before the signature', async (t) => {
  const sigFlipped = good.slice();
  sigFlipped[sigFlipped.length - 1] ^= 0x01;
  t.throws(() => checkDescriptor(decodeDescriptor(sigFlipped), NOW), code('BAD_SIGNATURE'));
  // signed by another key
  const other = rng.bytes(32);
  const forged = signDescriptor(fields, other);
  t.throws(() => checkDescriptor(decodeDescriptor(forged), NOW), code('BAD_SIGNATURE'));
  // a body field changed after signing (the timestamp is inside the signed body)
  const later = signDescriptor({ ...fields, timestamp: NOW + 1 }, seed);
  const Outer = codec('outer', struct({ body: [0, bytesSchema({ max: 2000 })], signature: [1, bytesSchema({ len: 64 })] }));
  const spliced = Outer.encode({ body: Outer.decode(later).body, signature: Outer.decode(good).signature });
  t.throws(() => checkDescriptor(decodeDescriptor(spliced), NOW), code('BAD_SIGNATURE'));
  let calls = 0;
  const counting = { verify: (...a: Parameters<typeof nodeBackend.ed25519.verify>) => (calls++, nodeBackend.ed25519.verify(...a)) };
  t.throws(() => checkDescriptor(decodeDescriptor(good), NOW + 2 * DESCRIPTOR_MAX_AGE_MS, counting), code('STALE'));
  t.equal(calls, 0, 'a stale descriptor costs no signature check');
});

t.test('shape and field defects are BAD_DESCRIPTOR, BAD_ADDRESS or UNSUPPORTED_VERSION', async (t) => {
  t.throws(() => decodeDescriptor(new Uint8Array(0)), code('BAD_DESCRIPTOR'));
  t.throws(() => decodeDescriptor(new Uint8Array([0xa0])), code('BAD_DESCRIPTOR'), 'empty map');
  t.throws(() => decodeDescriptor(Uint8Array.from([...good, 0])), code('BAD_DESCRIPTOR'), 'trailing byte');
  t.throws(() => decodeDescriptor(good.subarray(0, good.length - 1)), code('BAD_DESCRIPTOR'), 'truncated');
  for (let i = 0; i < 200; i++) {
    const junk = rng.bytes(rng.int(300));
    t.throws(() => decodeDescriptor(junk), { name: 'RoutingError' });
  }
  const v9 = signDescriptor({ ...fields, protocolVersion: 9 }, seed);
  t.throws(() => checkDescriptor(decodeDescriptor(v9), NOW), code('UNSUPPORTED_VERSION'));
  t.throws(() => signDescriptor({ ...fields, addresses: ['no-port'] }, seed), RangeError, 'we never sign a bad address');
  t.throws(() => signDescriptor({ ...fields, addresses: [] }, seed), { name: 'WireError' }, 'at least one address');
  t.throws(() => signDescriptor({ ...fields, addresses: ['a:1', 'b:2', 'c:3', 'd:4', 'e:5'] }, seed), { name: 'WireError' });
});

t.test('addresses: host:port with a DNS name, IPv4 or [IPv6], port 1..65535', async (t) => {
  for (const a of ['1.2.3.4:1', 'a.b:65535', '[::1]:80', 'x-y.example:7000', '10.0.0.1:7000']) t.ok(isValidAddress(a), a);
  for (const a of ['1.2.3.4', ':80', 'host:0', 'host:65536', 'host:080', 'ho st:1', '-a.b:1', 'a..b:1', '[::1:80', 'h:1:2x', '']) {
    t.notOk(isValidAddress(a), JSON.stringify(a));
  }
});

t.test('DescriptorCache: one verification per distinct descriptor, shared objects, times rechecked', async (t) => {
  let calls = 0;
  const counting = { verify: (...a: Parameters<typeof nodeBackend.ed25519.verify>) => (calls++, nodeBackend.ed25519.verify(...a)) };
  const cache = new DescriptorCache(counting, 2);
  const d1 = cache.read(good, NOW);
  const d2 = cache.read(good.slice(), NOW); // equal bytes in another array
  t.equal(d1, d2, 'the same object');
  t.equal(calls, 1);
  t.equal(cache.verifications, 1);
  t.throws(() => cache.read(good, NOW + DESCRIPTOR_MAX_AGE_MS + 1), code('STALE'), 'a hit is still time-checked');
  // same last 64 bytes (the signature) but a different body: not a hit, and refused
  const later = signDescriptor({ ...fields, timestamp: NOW + 1 }, seed);
  const Outer = codec('outer', struct({ body: [0, bytesSchema({ max: 2000 })], signature: [1, bytesSchema({ len: 64 })] }));
  const spliced = Outer.encode({ body: Outer.decode(later).body, signature: Outer.decode(good).signature });
  t.throws(() => cache.read(spliced, NOW), code('BAD_SIGNATURE'));
  t.equal(cache.read(good, NOW), d1, 'the good one is still cached');
  // bounded: the oldest is forgotten
  const s2 = rng.bytes(32), s3 = rng.bytes(32);
  const mk = (s: Uint8Array) => signDescriptor({ ...fields, identityKey: nodeBackend.ed25519.publicKey(s) }, s);
  cache.read(mk(s2), NOW);
  cache.read(mk(s3), NOW);
  t.equal(cache.size, 2);
  const before = calls;
  cache.read(good, NOW);
  t.equal(calls, before + 1, 'evicted, so verified again');
  t.throws(() => cache.read(rng.bytes(100), NOW), { name: 'RoutingError' }, 'junk is a RoutingError');
  t.throws(() => cache.read(new Uint8Array(5000), NOW), code('BAD_DESCRIPTOR'));
  t.ok(plainReader().read(good, NOW), 'the plain reader works too');
});

t.test('selfDescriptor: a node describes itself from its identity', async (t) => {
  const id = identityFromSecrets(rng.bytes(32), rng.bytes(32));
  const d = selfDescriptor(id, ['203.0.113.9:7000'], NOW);
  t.same(d.id, id.nodeId, 'the id is the identity node id');
  t.same(d.onionKey, id.onionPublic);
  t.equal(d.timestamp, NOW);
  t.same(checkDescriptor(decodeDescriptor(d.bytes), NOW).id, id.nodeId, 'others accept it');
  t.throws(() => selfDescriptor(id, ['bad'], NOW), RangeError);
});
