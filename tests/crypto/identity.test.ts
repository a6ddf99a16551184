// Node identities and the key-file codec: round trips, node ids, and rejection of every corrupt,
// truncated, extended or wrong-kind file.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { concat, toHex, utf8 } from '../../crypto/bytes.ts';
import { KEYFILE_CHECKSUM_LABEL, KEYFILE_NODE_IDENTITY_LEN, NODE_ID_LABEL } from '../../crypto/constants.ts';
import {
  decodeKeyFile,
  encodeKeyFile,
  generateIdentity,
  identityFromSecrets,
  nodeIdOf,
  type NodeIdentity,
} from '../../crypto/identity.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BAD = { name: 'CryptoError', code: 'BAD_KEY_FILE' };
const hex = (id: NodeIdentity) => [id.identitySeed, id.identityPublic, id.onionSecret, id.onionPublic, id.nodeId].map(toHex);

/** Recompute the checksum of a (possibly edited) key file, so a test can reach the later checks. */
function reseal(file: Uint8Array): Uint8Array {
  const out = file.slice();
  const sum = nodeBackend.sha256(utf8(KEYFILE_CHECKSUM_LABEL + '\0'), out.subarray(0, out.length - 32));
  out.set(sum, out.length - 32);
  return out;
}

t.test('generated identities are consistent and distinct', async (t) => {
  for (const be of [nodeBackend, nobleBackend]) {
    const a = generateIdentity(be), b = generateIdentity(be);
    t.same(hex(identityFromSecrets(a.identitySeed, a.onionSecret, nobleBackend)), hex(a), `${be.name}: derivable`);
    t.not(toHex(a.nodeId), toHex(b.nodeId));
    t.not(toHex(a.onionSecret), toHex(b.onionSecret));
    t.equal(a.nodeId.length, 32);
  }
});

t.test('node id is the labelled SHA-256 of the Ed25519 public key', async (t) => {
  const id = generateIdentity();
  t.same(id.nodeId, nodeBackend.sha256(utf8(NODE_ID_LABEL + '\0'), id.identityPublic));
  t.not(toHex(id.nodeId), toHex(nodeBackend.sha256(id.identityPublic)), 'domain-separated from a bare hash');
  t.same(nodeIdOf(id.identityPublic, nobleBackend), id.nodeId);
  t.throws(() => nodeIdOf(rnd(31)), RangeError);
});

t.test('key file round trip, identical on both backends', async (t) => {
  for (let i = 0; i < 10; i++) {
    const id = generateIdentity();
    const file = encodeKeyFile(id);
    t.equal(file.length, KEYFILE_NODE_IDENTITY_LEN);
    t.same(encodeKeyFile(id, nobleBackend), file);
    t.same(hex(decodeKeyFile(file)), hex(id));
    t.same(hex(decodeKeyFile(file, nobleBackend)), hex(id));
  }
});

t.test('every single-byte corruption is rejected', async (t) => {
  const file = encodeKeyFile(generateIdentity());
  let rejected = 0;
  for (let i = 0; i < file.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bad = file.slice();
      bad[i] ^= flip;
      try {
        decodeKeyFile(bad);
      } catch (e) {
        if ((e as { code?: string }).code === 'BAD_KEY_FILE') rejected++;
      }
    }
  }
  t.equal(rejected, file.length * 3);
});

t.test('every truncation and extension is rejected', async (t) => {
  const file = encodeKeyFile(generateIdentity());
  for (let n = 0; n < file.length; n++) t.throws(() => decodeKeyFile(file.subarray(0, n)), BAD, `length ${n}`);
  t.throws(() => decodeKeyFile(concat(file, new Uint8Array(1))), BAD);
  t.throws(() => decodeKeyFile(concat(file, file)), BAD);
  t.throws(() => decodeKeyFile(reseal(concat(file, new Uint8Array(32)))), BAD, 'extended and resealed');
});

t.test('magic, version and kind are checked with clear messages', async (t) => {
  const file = encodeKeyFile(generateIdentity());
  const edit = (i: number, v: number) => {
    const b = file.slice();
    b[i] = v;
    return reseal(b);
  };
  t.throws(() => decodeKeyFile(edit(0, 0x41)), { ...BAD, message: /magic/ });
  t.throws(() => decodeKeyFile(edit(8, 2)), { ...BAD, message: /version 2/ });
  t.throws(() => decodeKeyFile(edit(9, 7)), { ...BAD, message: /kind 7/ });
  t.throws(() => decodeKeyFile(rnd(KEYFILE_NODE_IDENTITY_LEN)), BAD, 'random bytes');
  t.throws(() => decodeKeyFile(new Uint8Array(0)), { ...BAD, message: /truncated/ });
});

t.test('a public key that does not match its secret is rejected', async (t) => {
  const a = generateIdentity(), b = generateIdentity();
  const edWrong = encodeKeyFile({ ...a, identityPublic: b.identityPublic });
  const xWrong = encodeKeyFile({ ...a, onionPublic: b.onionPublic });
  for (const be of [nodeBackend, nobleBackend]) {
    t.throws(() => decodeKeyFile(edWrong, be), { ...BAD, message: /Ed25519 public key/ }, be.name);
    t.throws(() => decodeKeyFile(xWrong, be), { ...BAD, message: /X25519 public key/ }, be.name);
  }
});

t.test('misuse is a TypeError or RangeError', async (t) => {
  t.throws(() => decodeKeyFile('x' as unknown as Uint8Array), TypeError);
  t.throws(() => encodeKeyFile({ ...generateIdentity(), onionSecret: rnd(31) }), RangeError);
  t.throws(() => identityFromSecrets(rnd(32), rnd(33)), RangeError);
});
