// POLYVAL (RFC 8452 §3): the RFC's worked example and an AES-GCM-SIV vector, then differential tests
// against noble's polyval on random keys and inputs, through every entry point of crypto/polyval.ts.
import { randomBytes } from 'node:crypto';
import { polyval as noblePolyval } from '@noble/ciphers/_polyval.js';
import t from 'tap';
import { fromHex, toHex } from '../../crypto/bytes.ts';
import { Polyval, polyval, wordsToBytes } from '../../crypto/polyval.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const ref = (key: Uint8Array, data: Uint8Array) => toHex(noblePolyval(data, key));

t.test('RFC 8452 vectors', async (t) => {
  // Appendix A: POLYVAL(H, X_1, X_2)
  t.equal(
    toHex(polyval(fromHex('25629347589242761d31f826ba4b757b'),
      fromHex('4f4f95668c83dfb6401762bb2d01a262d1a24ddd2721d006bbe45f20d3c9f362'))),
    'f7a3b47b846119fae5b7866cf5e5b77e',
  );
  // Appendix C.1, second vector: record authentication key, POLYVAL input (with its length block), result
  t.equal(
    toHex(polyval(fromHex('d9b360279694941ac5dbc6987ada7377'),
      fromHex('0100000000000000000000000000000000000000000000004000000000000000'))),
    'eb93b7740962c5e49d2a90a7dc5cec74',
  );
});

t.test('agrees with noble on random keys and lengths (zero-padded tail)', async (t) => {
  let agree = 0;
  const N = 600;
  for (let i = 0; i < N; i++) {
    const key = rnd(16), data = rnd((i * 37) % 700);
    if (toHex(polyval(key, data)) === ref(key, data)) agree++;
  }
  t.equal(agree, N);
});

t.test('special keys and data', async (t) => {
  const ones = new Uint8Array(16).fill(0xff);
  for (const key of [new Uint8Array(16), ones, fromHex('01' + '00'.repeat(15)), fromHex('00'.repeat(15) + '80')]) {
    for (const data of [new Uint8Array(0), new Uint8Array(512), new Uint8Array(512).fill(0xff), rnd(33)]) {
      t.equal(toHex(polyval(key, data)), ref(key, data), `key ${toHex(key)} data ${data.length}`);
    }
  }
  t.equal(toHex(polyval(new Uint8Array(16), rnd(64))), '00'.repeat(16), 'the zero key maps everything to zero');
});

t.test('absorb over words: chained calls equal one call; re-keying in place equals a fresh key', async (t) => {
  const pv = new Polyval(rnd(16));
  let agree = 0;
  const N = 200;
  for (let i = 0; i < N; i++) {
    const key = rnd(40);
    const off = i % 24;
    pv.setKey(key, off); // reuses the same table
    const bytes = rnd(512);
    const words = new Int32Array(bytes.buffer);
    const acc = new Int32Array(4);
    const split = i % 33;
    pv.absorb(acc, words, 0, split);
    pv.absorb(acc, words, split * 4, 32 - split);
    const ok1 = toHex(wordsToBytes(acc)) === ref(key.subarray(off, off + 16), bytes);
    const one = new Int32Array(4);
    pv.hashBlock(one, bytes, 16 * (i % 32));
    const ok2 = toHex(wordsToBytes(one)) === ref(key.subarray(off, off + 16), bytes.subarray(16 * (i % 32), 16 * (i % 32) + 16));
    if (ok1 && ok2 && toHex(pv.digest(bytes)) === toHex(wordsToBytes(acc))) agree++;
  }
  t.equal(agree, N);
});

t.test('a key gives the same answers before and after its 8-bit table is built', async (t) => {
  // A fresh key hashes its first blocks with the 4-bit table, then builds the 8-bit one.
  const key = rnd(16), pv = new Polyval(key);
  const blocks = Array.from({ length: 8 }, () => rnd(16));
  const got: string[] = [];
  const acc = new Int32Array(4);
  for (const b of blocks) {
    pv.hashBlock(acc, b, 0);
    got.push(toHex(wordsToBytes(acc)));
  }
  t.same(got, blocks.map((b) => ref(key, b)));
  pv.setKey(key); // back to the 4-bit tier
  pv.hashBlock(acc, blocks[0], 0);
  t.equal(toHex(wordsToBytes(acc)), got[0]);
});

t.test('misuse', async (t) => {
  t.throws(() => polyval(rnd(15), rnd(16)), RangeError);
  t.throws(() => new Polyval(rnd(20), 5), RangeError);
  t.throws(() => polyval(rnd(16), 'abc' as unknown as Uint8Array), TypeError);
});
