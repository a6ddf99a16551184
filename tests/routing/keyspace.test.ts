// The key space (routing/keyspace.ts): XOR distance comparison and common prefix length against a
// BigInt reference on random and edge inputs, bucket-range keys, and the node id derivation.
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { utf8 } from '../../crypto/bytes.ts';
import {
  closer,
  commonPrefixLength,
  compareDistance,
  distance,
  idEquals,
  nodeIdOf,
  randomKeyAtPrefix,
} from '../../routing/keyspace.ts';
import { SeededRandom } from '../../routing/runtime.ts';

const rng = new SeededRandom(11);
const big = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).toString('hex'));
const rand = () => rng.bytes(32);

t.test('compareDistance and closer agree with the integer XOR metric', async (t) => {
  for (let i = 0; i < 500; i++) {
    const a = rand(), b = rand(), k = rand();
    if (i % 5 === 0) b.set(a.subarray(0, rng.int(32))); // long shared prefixes too
    const da = big(a) ^ big(k), db = big(b) ^ big(k);
    const c = compareDistance(a, b, k);
    t.equal(Math.sign(c), da < db ? -1 : da > db ? 1 : 0);
    t.equal(closer(a, b, k), da < db);
    t.equal(big(distance(a, k)), da);
  }
  const a = rand();
  t.equal(compareDistance(a, a.slice(), rand()), 0);
});

t.test('commonPrefixLength counts leading equal bits (0..256)', async (t) => {
  for (let i = 0; i < 500; i++) {
    const a = rand(), b = a.slice();
    const bit = rng.int(256);
    b[bit >> 3] ^= 0x80 >> (bit & 7);
    for (let j = (bit >> 3) + 1; j < 32; j++) b[j] = rng.int(256);
    t.equal(commonPrefixLength(a, b), bit);
    const x = big(a) ^ big(b);
    t.equal(256 - x.toString(2).length, bit, 'matches the reference');
  }
  const a = rand();
  t.equal(commonPrefixLength(a, a.slice()), 256);
  t.ok(idEquals(a, a.slice()));
  t.notOk(idEquals(a, rand()));
});

t.test('randomKeyAtPrefix gives keys in exactly that bucket', async (t) => {
  const self = rand();
  for (let bits = 0; bits < 256; bits += 1) {
    const k = randomKeyAtPrefix(self, bits, (n) => rng.bytes(n));
    t.equal(commonPrefixLength(self, k), bits);
  }
  t.throws(() => randomKeyAtPrefix(self, 256, (n) => rng.bytes(n)), RangeError);
  t.throws(() => randomKeyAtPrefix(self, 3, () => new Uint8Array(31)), RangeError);
});

t.test('node id = SHA-256("umbra/node-id/v1" || 0x00 || identity key)', async (t) => {
  const key = nodeBackend.ed25519.publicKey(rand());
  t.same(nodeIdOf(key), nodeBackend.sha256(utf8('umbra/node-id/v1\0'), key));
});
