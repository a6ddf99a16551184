// Erasure code: GF(256) arithmetic, and for several shapes, random loss patterns of up to m blocks
// recover the data exactly while m + 1 losses give NOT_ENOUGH_BLOCKS; a slow reference encoder
// (one byte at a time with gfMul) agrees with the word kernel.
import t from 'tap';
import { cauchyMatrix, erasureDecode, erasureEncode } from '../../store/erasure.ts';
import { gfInv, gfInvert, gfMul } from '../../store/gf256.ts';
import { content, prng } from './helpers.ts';

t.test('field arithmetic', async (t) => {
  for (let a = 1; a < 256; a++) t.equal(gfMul(a, gfInv(a)), 1, `inverse of ${a}`);
  t.equal(gfMul(0x02, 0x80), 0x1d, 'reduction by 0x11d');
  const rnd = prng(5);
  for (let i = 0; i < 200; i++) {
    const a = (rnd() * 256) | 0, b = (rnd() * 256) | 0, c = (rnd() * 256) | 0;
    if (gfMul(a, b ^ c) !== (gfMul(a, b) ^ gfMul(a, c))) t.fail('distributive');
    if (gfMul(gfMul(a, b), c) !== gfMul(a, gfMul(b, c))) t.fail('associative');
  }
  t.equal(gfInvert(Uint8Array.of(1, 1, 1, 1), 2), null, 'singular matrix');
});

function blocksOf(k: number, len: number, seed: number): Uint8Array[] {
  const all = content(k * len, seed);
  return Array.from({ length: k }, (_, j) => all.slice(j * len, (j + 1) * len));
}

t.test('the word kernel agrees with a byte-at-a-time reference', async (t) => {
  const k = 7, m = 5, len = 64;
  const data = blocksOf(k, len, 9);
  const checks = Array.from({ length: m }, () => new Uint8Array(len));
  erasureEncode(data, checks);
  const c = cauchyMatrix(k, m);
  for (let i = 0; i < m; i++) {
    const ref = new Uint8Array(len);
    for (let j = 0; j < k; j++) for (let b = 0; b < len; b++) ref[b] ^= gfMul(c[i * k + j], data[j][b]);
    t.same(checks[i], ref, `check ${i}`);
  }
});

for (const [k, m, len] of [[1, 1, 16], [4, 2, 64], [16, 4, 256], [32, 8, 1024], [32, 16, 128], [100, 50, 32]] as const) {
  t.test(`k=${k} m=${m}: any loss of up to m recovers, m + 1 fails`, async (t) => {
    const data = blocksOf(k, len, k * 1000 + m);
    const checks = Array.from({ length: m }, () => new Uint8Array(len));
    erasureEncode(data, checks);
    const rnd = prng(k * 31 + m);
    for (let trial = 0; trial < 30; trial++) {
      const lose = trial < 2 ? m : 1 + Math.floor(rnd() * m);
      const order = Array.from({ length: k + m }, (_, i) => i).sort(() => rnd() - 0.5);
      const blocks: (Uint8Array | null)[] = [...data.map((d) => d.slice()), ...checks.map((c) => c.slice())];
      // trial 0: the first m data blocks (the worst case); otherwise `lose` random blocks
      const lost = trial === 0 ? Array.from({ length: Math.min(m, k) }, (_, i) => i) : order.slice(0, lose);
      for (const i of lost) blocks[i] = null;
      erasureDecode(blocks, k, m, len);
      for (let j = 0; j < k; j++) if (Buffer.compare(blocks[j] as Uint8Array, data[j]) !== 0) t.fail(`trial ${trial} block ${j}`);
      const tooMany: (Uint8Array | null)[] = [...data, ...checks];
      for (const i of order.slice(0, m + 1)) tooMany[i] = null;
      t.throws(() => erasureDecode(tooMany, k, m, len), { name: 'StoreError', code: 'NOT_ENOUGH_BLOCKS' });
    }
    t.pass('all trials');
  });
}
