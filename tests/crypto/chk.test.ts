// CHK blocks: round trips at the size edges, convergence, the two backends agreeing byte for byte,
// and rejection of every tamper class, wrong key and malformed header; chkVerifyInPlace (the
// datastore's get path) hashing in the CHK_VERIFY_ROOM before the block without changing it.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend, opensslBackend } from '../../crypto/backend-node.ts';
import { toHex, utf8 } from '../../crypto/bytes.ts';
import { CHK_VERIFY_ROOM, chkDecode, chkEncode, chkRoutingKey, chkVerify, chkVerifyInPlace } from '../../crypto/chk.ts';
import { CHK_BLOCK_LEN, CHK_CRYPTO_KEY_LABEL, CHK_ENCODED_LEN, CHK_HEADER_LEN } from '../../crypto/constants.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BAD = { name: 'CryptoError', code: 'BAD_BLOCK' };
const SIZES = [0, 1, 1000, CHK_BLOCK_LEN - 1, CHK_BLOCK_LEN];
const BACKENDS = [nodeBackend, nobleBackend];

/** A block whose padded plaintext the test chose freely, encrypted and keyed like a real one. */
function forge(padded: Uint8Array, cryptoKey: Uint8Array) {
  const block = nodeBackend.aesCtr(cryptoKey, new Uint8Array(16), padded);
  return { block, routingKey: chkRoutingKey(block) };
}
function paddedOf(plaintext: Uint8Array): Uint8Array {
  const p = new Uint8Array(CHK_ENCODED_LEN);
  p[0] = plaintext.length >> 8;
  p[1] = plaintext.length & 0xff;
  p.set(plaintext, CHK_HEADER_LEN);
  return p;
}

t.test('round trip at every size edge, on both backends, with identical output', async (t) => {
  for (const n of SIZES) {
    const pt = rnd(n);
    const a = chkEncode(pt, nodeBackend), b = chkEncode(pt, nobleBackend);
    t.equal(a.block.length, CHK_ENCODED_LEN, `size ${n}: block is always full size`);
    t.same([a.routingKey, a.cryptoKey, a.block].map(toHex), [b.routingKey, b.cryptoKey, b.block].map(toHex), `size ${n}: backends agree`);
    for (const be of BACKENDS) {
      t.ok(chkVerify(a.routingKey, a.block, be));
      t.same(chkDecode(a.routingKey, a.cryptoKey, a.block, be), pt, `size ${n} ${be.name}`);
    }
  }
});

t.test('too large or not bytes is misuse', async (t) => {
  t.throws(() => chkEncode(new Uint8Array(CHK_BLOCK_LEN + 1)), RangeError);
  t.throws(() => chkEncode('abc' as unknown as Uint8Array), TypeError);
  const e = chkEncode(rnd(5));
  t.throws(() => chkDecode(e.routingKey.subarray(1), e.cryptoKey, e.block), RangeError);
  t.throws(() => chkDecode(e.routingKey, e.cryptoKey.subarray(1), e.block), RangeError);
});

t.test('convergent: same plaintext, same keys; different plaintexts, different keys', async (t) => {
  const pt = rnd(777);
  const a = chkEncode(pt), b = chkEncode(pt.slice());
  t.same([a.routingKey, a.cryptoKey, a.block].map(toHex), [b.routingKey, b.cryptoKey, b.block].map(toHex));
  const seen = new Set<string>();
  // Plaintexts that differ only in length or in one bit, and the empty one.
  const variants = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(2), pt, pt.subarray(0, 776), pt.map((v, i) => (i === 0 ? v ^ 1 : v))];
  for (const v of variants) {
    const e = chkEncode(v);
    seen.add(toHex(e.routingKey));
    seen.add(toHex(e.cryptoKey));
  }
  t.equal(seen.size, variants.length * 2, 'all keys distinct');
  t.not(toHex(a.cryptoKey), toHex(nodeBackend.sha256(pt)), 'crypto key is domain-separated from a bare hash');
  t.same(a.cryptoKey, nodeBackend.sha256(utf8(CHK_CRYPTO_KEY_LABEL + '\0'), pt));
});

t.test('a block hides the plaintext length and content', async (t) => {
  const zeros = chkEncode(new Uint8Array(0)).block;
  let zeroBytes = 0;
  for (const v of zeros) if (v === 0) zeroBytes++;
  t.ok(zeroBytes < CHK_ENCODED_LEN / 64, 'an empty plaintext still gives a pseudorandom full block');
});

t.test('every tamper class is rejected', async (t) => {
  const pt = rnd(1000);
  const e = chkEncode(pt);
  // header bytes, first/last ciphertext bytes, the plaintext/pad boundary, sampled bytes
  const positions = [0, 1, 2, 15, 16, 17, 16 + 999, 16 + 1000, CHK_ENCODED_LEN - 1];
  for (let i = 0; i < CHK_ENCODED_LEN; i += 997) positions.push(i);
  for (const be of BACKENDS) {
    for (const i of positions) {
      const bad = e.block.slice();
      bad[i] ^= 0x40;
      t.notOk(chkVerify(e.routingKey, bad, be), `verify ${be.name} byte ${i}`);
      t.throws(() => chkDecode(e.routingKey, e.cryptoKey, bad, be), { ...BAD, message: /routing key/ }, `${be.name} byte ${i}`);
    }
  }
  t.notOk(chkVerify(e.routingKey, e.block.subarray(1)));
  t.notOk(chkVerify(e.routingKey, new Uint8Array([...e.block, 0])));
  t.notOk(chkVerify(e.routingKey.subarray(1), e.block));
  t.notOk(chkVerify(e.routingKey, 'x' as unknown as Uint8Array));
  t.throws(() => chkDecode(e.routingKey, e.cryptoKey, e.block.subarray(0, CHK_ENCODED_LEN - 1)), BAD);
  t.throws(() => chkDecode(e.routingKey, e.cryptoKey, new Uint8Array(0)), BAD);
  t.throws(() => chkDecode(e.routingKey, e.cryptoKey, 7 as unknown as Uint8Array), BAD);
});

t.test('wrong routing key or wrong crypto key', async (t) => {
  const a = chkEncode(rnd(100)), b = chkEncode(rnd(100));
  for (const be of BACKENDS) {
    t.throws(() => chkDecode(b.routingKey, a.cryptoKey, a.block, be), BAD);
    t.throws(() => chkDecode(a.routingKey, b.cryptoKey, a.block, be), BAD);
    t.throws(() => chkDecode(a.routingKey, rnd(32), a.block, be), BAD);
    const k = a.cryptoKey.slice();
    k[31] ^= 1;
    t.throws(() => chkDecode(a.routingKey, k, a.block, be), BAD);
  }
});

t.test('crafted blocks with a valid routing key but a bad inside are rejected', async (t) => {
  const pt = rnd(300);
  const key = chkEncode(pt).cryptoKey;
  const cases: [string, (p: Uint8Array) => void, RegExp][] = [
    ['length over the maximum', (p) => { p[0] = 0x80; p[1] = 0x01; }, /header/],
    ['length 0xffff', (p) => { p[0] = 0xff; p[1] = 0xff; }, /header/],
    ['length one short', (p) => { p[1] -= 1; }, /crypto key/],
    ['length one long', (p) => { p[1] += 1; }, /crypto key/],
    ['reserved header byte set', (p) => { p[9] = 1; }, /header/],
    ['nonzero padding', (p) => { p[CHK_ENCODED_LEN - 1] = 1; }, /padding/],
    ['content changed', (p) => { p[CHK_HEADER_LEN + 5] ^= 1; }, /crypto key/],
  ];
  const honest = forge(paddedOf(pt), key);
  t.same(chkDecode(honest.routingKey, key, honest.block), pt, 'the forge helper makes real blocks');
  for (const [what, edit, message] of cases) {
    const p = paddedOf(pt);
    edit(p);
    const f = forge(p, key);
    t.ok(chkVerify(f.routingKey, f.block), `${what}: a store accepts it`);
    for (const be of BACKENDS) t.throws(() => chkDecode(f.routingKey, key, f.block, be), { ...BAD, message }, `${what} ${be.name}`);
  }
});

t.test('random hostile blocks only ever give BAD_BLOCK', async (t) => {
  let ok = 0;
  for (let i = 0; i < 50; i++) {
    const block = rnd(CHK_ENCODED_LEN);
    const routingKey = i % 2 ? chkRoutingKey(block) : rnd(32);
    try {
      chkDecode(routingKey, rnd(32), block);
    } catch (e) {
      if ((e as { code?: string }).code === 'BAD_BLOCK') ok++;
    }
  }
  t.equal(ok, 50);
});

t.test('chkVerifyInPlace: hashes in the room before the block, agrees with chkVerify', async (t) => {
  const c = chkEncode(rnd(71));
  const room = new Uint8Array(CHK_VERIFY_ROOM + CHK_ENCODED_LEN + 3).fill(0xee);
  const view = room.subarray(CHK_VERIFY_ROOM, CHK_VERIFY_ROOM + CHK_ENCODED_LEN);
  view.set(c.block);
  for (const backend of [opensslBackend, nobleBackend]) t.ok(chkVerifyInPlace(c.routingKey, view, backend), backend.name);
  t.ok(Buffer.from(view).equals(c.block), 'the block is not changed');
  t.equal(room[room.length - 1], 0xee, 'nor what follows it');
  t.notOk(chkVerifyInPlace(chkEncode(rnd(72)).routingKey, view), 'another key');
  view[CHK_ENCODED_LEN - 1] ^= 1;
  t.notOk(chkVerifyInPlace(c.routingKey, view), 'a flipped bit');
  t.equal(chkVerifyInPlace(c.routingKey, view), chkVerify(c.routingKey, view), 'agrees with chkVerify');
  view[CHK_ENCODED_LEN - 1] ^= 1;
  t.notOk(chkVerifyInPlace(c.routingKey, room.subarray(CHK_VERIFY_ROOM, CHK_VERIFY_ROOM + 100)), 'wrong length');
  t.notOk(chkVerifyInPlace(c.routingKey.subarray(1), view), 'short key');
  t.throws(() => chkVerifyInPlace(c.routingKey, c.block.slice()), RangeError, 'no room before the block');
});

t.test('each encoding is its own: a later one (shorter, so its pad differs) leaves an earlier block as it was', async (t) => {
  for (const backend of [nodeBackend, nobleBackend]) {
    const a = chkEncode(new Uint8Array(CHK_BLOCK_LEN).fill(7), backend);
    const before = Buffer.from(a.block).toString('hex');
    const b = chkEncode(new Uint8Array(10).fill(9), backend);
    t.equal(Buffer.from(a.block).toString('hex'), before, `${backend.name}: the first block is unchanged`);
    t.not(a.block.buffer, b.block.buffer);
    t.same(chkDecode(b.routingKey, b.cryptoKey, b.block, backend), new Uint8Array(10).fill(9), 'and the short one still decodes (its pad was zeroed)');
  }
});
