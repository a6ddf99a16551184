// crypto/random.ts: sizes, bad sizes, and the pool's promises: no output is handed out twice (not
// across pool refills either), outputs are independent copies, and the bytes look uniform.
import t from 'tap';
import { randomBytes } from '../../crypto/random.ts';

t.test('sizes, and bad sizes refused', async (t) => {
  for (const n of [0, 1, 16, 64, 65, 4096, 10_000]) t.equal(randomBytes(n).length, n, `${n} bytes`);
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) t.throws(() => randomBytes(bad), RangeError);
  t.equal(randomBytes(16).constructor, Uint8Array);
});

t.test('no output twice, across many pool refills', async (t) => {
  const seen = new Set<string>();
  let dup = 0;
  for (let i = 0; i < 20_000; i++) {
    const k = Buffer.from(randomBytes(i % 3 === 0 ? 16 : i % 3 === 1 ? 32 : 8)).toString('hex');
    if (seen.has(k)) dup++;
    seen.add(k);
  }
  t.equal(dup, 0, '20,000 outputs (about 100 pools), all distinct');
});

t.test('outputs are copies that do not share memory', async (t) => {
  const a = randomBytes(16), b = randomBytes(16);
  t.not(a.buffer, b.buffer);
  const before = Buffer.from(b).toString('hex');
  a.fill(0xff);
  t.equal(Buffer.from(b).toString('hex'), before, 'changing one output leaves the next alone');
  t.equal(a.buffer.byteLength, 16, 'an output holds no pool behind it');
});

t.test('bytes are spread evenly', async (t) => {
  const counts = new Array(256).fill(0);
  const n = 256 * 400;
  for (let i = 0; i < n / 32; i++) for (const x of randomBytes(32)) counts[x]++;
  const expect = n / 256;
  const chi2 = counts.reduce((s, c) => s + (c - expect) ** 2 / expect, 0);
  t.ok(chi2 < 400, `chi-square ${chi2.toFixed(0)} over 255 degrees of freedom (p < 1e-7 above 400)`);
});
