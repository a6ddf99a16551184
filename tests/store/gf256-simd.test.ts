// The WebAssembly SIMD kernel of gfMatMul against the pure-JS kernel (the reference): byte-identical
// outputs for random matrices and data over every k = 1..32 and m = 1..16, lengths that are
// multiples of 4 but not of 16 or of the kernel step, length 0, strip boundaries, every coefficient
// value (checked against gfMul too), unaligned views, the coefficient-table cache; the relaxed-SIMD
// variant where V8 can be asked for it; erasure encode/decode under both kernels; the LEB128 of the
// module writer.
import v8 from 'node:v8';
import t from 'tap';
import { erasureDecode, erasureEncode } from '../../store/erasure.ts';
import { createGfSimdKernel, type GfSimdKernel, kernelValidates } from '../../store/gf256-simd.ts';
import {
  gfKernel, gfMatMul, gfMatMulJs, gfMul, gfSimdAvailable, setGfKernel, words,
} from '../../store/gf256.ts';
import { s32, u32 } from '../../store/wasm-emit.ts';
import { prng } from './helpers.ts';

const MUL = new Uint8Array(65536);
for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) MUL[a * 256 + b] = gfMul(a, b);

function randomBytes(n: number, rnd: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/** Runs one product with the JS kernel and with `simd`; returns the index of the first differing output or -1. */
function compare(simd: GfSimdKernel, k: number, m: number, len: number, rnd: () => number, coef?: Uint8Array): number {
  const c = coef ?? randomBytes(k * m, rnd);
  const srcs = Array.from({ length: k }, () => words(randomBytes(len, rnd)));
  const ref = Array.from({ length: m }, () => new Uint32Array(len / 4));
  const got = Array.from({ length: m }, () => words(randomBytes(len, rnd))); // garbage: must be overwritten
  gfMatMulJs(c, srcs, ref);
  simd.matMul(c, srcs, got);
  for (let r = 0; r < m; r++) if (Buffer.compare(Buffer.from(ref[r].buffer), Buffer.from(got[r].buffer)) !== 0) return r;
  return -1;
}

t.test('module writer: LEB128', async (t) => {
  t.same(u32(0), [0]);
  t.same(u32(127), [0x7f]);
  t.same(u32(128), [0x80, 0x01]);
  t.same(u32(624485), [0xe5, 0x8e, 0x26]);
  t.same(u32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  t.same(s32(0), [0]);
  t.same(s32(63), [0x3f]);
  t.same(s32(64), [0xc0, 0x00]);
  t.same(s32(-1), [0x7f]);
  t.same(s32(-64), [0x40]);
  t.same(s32(-65), [0xbf, 0x7f]);
  t.same(s32(-123456), [0xc0, 0xbb, 0x78]);
  t.throws(() => u32(-1), RangeError);
  t.throws(() => s32(2 ** 31), RangeError);
});

t.test('the kernel module validates and is the default on Node 20', async (t) => {
  t.ok(kernelValidates(false), 'plain SIMD module');
  t.ok(gfSimdAvailable, 'SIMD available');
  t.equal(gfKernel(), 'simd');
  t.equal(setGfKernel('js'), 'simd');
  t.equal(gfKernel(), 'js');
  t.equal(setGfKernel('simd'), 'js');
  t.throws(() => setGfKernel('avx' as 'js'), RangeError);
  t.equal(createGfSimdKernel(MUL, { relaxed: false })?.relaxed, false);
});

t.test('no WebAssembly: no SIMD kernel (gfMatMul then uses the JS one)', async (t) => {
  const g = globalThis as { WebAssembly?: unknown };
  const saved = g.WebAssembly;
  g.WebAssembly = undefined;
  try {
    t.equal(createGfSimdKernel(MUL), null);
    t.equal(kernelValidates(false), false);
  } finally {
    g.WebAssembly = saved;
  }
  t.ok(kernelValidates(false), 'restored');
});

const plain = createGfSimdKernel(MUL, { relaxed: false });
if (plain === null) throw new Error('no WebAssembly SIMD in this runtime');

t.test('every k = 1..32 and m = 1..16 agrees with the JS kernel', async (t) => {
  const rnd = prng(101);
  // lengths: multiples of 4, most not of 16 or 32 (the kernel step), so the tail is exercised
  const lens = [4, 8, 12, 20, 36, 44, 60, 68, 100, 132, 260];
  let bad = 0;
  for (let k = 1; k <= 32; k++) {
    for (let m = 1; m <= 16; m++) {
      const len = lens[(k * 17 + m) % lens.length];
      const r = compare(plain, k, m, len, rnd);
      if (r >= 0) { bad++; t.fail(`k=${k} m=${m} len=${len}: output ${r} differs`); }
    }
  }
  t.equal(bad, 0, '512 shapes');
});

t.test('lengths around the step and the strip, and 32+8 at 32 KiB', async (t) => {
  const rnd = prng(102);
  for (const len of [4, 16, 28, 32, 48, 8188, 8192, 8196, 8192 * 2 + 4, 8192 * 3 - 12, 32768, 32772]) {
    t.equal(compare(plain, 5, 3, len, rnd), -1, `len ${len}`);
  }
  t.equal(compare(plain, 32, 8, 32768, rnd), -1, '32+8, 32 KiB');
  t.equal(compare(plain, 32, 16, 32768, rnd), -1, '32+16, 32 KiB');
  t.equal(compare(plain, 100, 50, 64, rnd), -1, '100+50 (tables larger than a page)');
});

t.test('length 0 and no outputs', async (t) => {
  const srcs = [new Uint32Array(0), new Uint32Array(0)];
  const outs = [new Uint32Array(0)];
  plain.matMul(Uint8Array.of(3, 4), srcs, outs);
  gfMatMul(Uint8Array.of(3, 4), srcs, outs);
  t.equal(outs[0].length, 0);
  gfMatMul(new Uint8Array(0), [new Uint32Array(4)], []);
  t.pass('no outputs is a no-op');
});

t.test('every coefficient value, against gfMul', async (t) => {
  const all = new Uint8Array(256);
  for (let x = 0; x < 256; x++) all[x] = x;
  // one source holding every byte value, 256 outputs: out_c = c · src
  const coef = all.slice();
  const outs = Array.from({ length: 256 }, () => new Uint32Array(64));
  plain.matMul(coef, [words(all.slice())], outs);
  let bad = 0;
  for (let c = 0; c < 256; c++) {
    const o = new Uint8Array(outs[c].buffer);
    for (let x = 0; x < 256; x++) if (o[x] !== gfMul(c, x)) bad++;
  }
  t.equal(bad, 0, '65536 products');
  // and a 16×16 matrix holding all 256 coefficients, 0 and 1 included, against the JS kernel
  t.equal(compare(plain, 16, 16, 1028, prng(103), all), -1, 'matrix of all coefficients');
  // rows of only 0 and only 1
  const zeroOne = new Uint8Array(2 * 7);
  zeroOne.fill(1, 7);
  t.equal(compare(plain, 7, 2, 100, prng(104), zeroOne), -1, 'rows of 0s and 1s');
});

t.test('unaligned views and the coefficient-table cache', async (t) => {
  const rnd = prng(105);
  const k = 6, m = 3, len = 516;
  const buf = randomBytes(4 + k * (len + 4), rnd);
  // sources at byte offsets 4 mod 16 in one shared buffer
  const srcs = Array.from({ length: k }, (_, j) => new Uint32Array(buf.buffer, 4 + j * (len + 4), len / 4));
  const coef = randomBytes(k * m, rnd);
  const ref = Array.from({ length: m }, () => new Uint32Array(len / 4));
  const outBuf = new Uint8Array(4 + m * len);
  const got = Array.from({ length: m }, (_, r) => new Uint32Array(outBuf.buffer, 4 + r * len, len / 4));
  for (let round = 0; round < 4; round++) {
    // round 1 changes the coefficients in place (same array, same shape), round 2 restores them,
    // round 3 repeats round 2: the cached tables must follow the contents, not the array
    if (round === 1) coef[5] ^= 0x5a;
    if (round === 2) coef[5] ^= 0x5a;
    gfMatMulJs(coef, srcs, ref);
    plain.matMul(coef, srcs, got);
    for (let r = 0; r < m; r++) t.same(new Uint8Array(got[r].buffer, got[r].byteOffset, len), new Uint8Array(ref[r].buffer), `round ${round} output ${r}`);
  }
  t.equal(outBuf[0] | outBuf[1] | outBuf[2] | outBuf[3], 0, 'bytes before the first output untouched');
  // same coefficient bytes with another shape: 3×6 read as 6×3
  t.equal(compare(plain, m, k, 20, rnd, coef), -1, 'same bytes, other shape');
});

t.test('gfMatMul checks shapes', async (t) => {
  t.throws(() => gfMatMul(new Uint8Array(3), [new Uint32Array(4)], [new Uint32Array(4), new Uint32Array(4)]), RangeError);
  t.throws(() => gfMatMul(new Uint8Array(2), [new Uint32Array(4), new Uint32Array(8)], [new Uint32Array(4)]), RangeError);
  t.throws(() => gfMatMul(new Uint8Array(1), [new Uint32Array(4)], [new Uint32Array(8)]), RangeError);
});

// Node 20's V8 has relaxed SIMD behind a flag, which can be set at run time; later versions ship it.
if (!kernelValidates(true)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const relaxed = createGfSimdKernel(MUL, { relaxed: true });
t.test('relaxed-SIMD variant, where V8 can enable it', { skip: relaxed === null ? 'no relaxed SIMD here' : false }, async (t) => {
  if (relaxed === null) return;
  t.equal(relaxed.relaxed, true);
  const rnd = prng(106);
  let bad = 0;
  for (let k = 1; k <= 32; k += 3) for (let m = 1; m <= 16; m += 2) if (compare(relaxed, k, m, 4 * (1 + ((k * m) % 40)), rnd) >= 0) bad++;
  t.equal(bad, 0, 'shapes');
  t.equal(compare(relaxed, 32, 8, 32772, rnd), -1, '32+8 with a tail');
  t.equal(compare(relaxed, 16, 16, 64, rnd, Uint8Array.from({ length: 256 }, (_, i) => i)), -1, 'all coefficients');
});

t.test('erasure encode and decode: same bytes under both kernels, round trips', async (t) => {
  const rnd = prng(107);
  for (const [k, m, len] of [[32, 8, 32768], [4, 2, 20], [13, 7, 1004], [1, 1, 4]] as const) {
    const data = Array.from({ length: k }, () => randomBytes(len, rnd));
    const checksBy: Record<string, Uint8Array[]> = {};
    const prev = gfKernel();
    try {
      for (const name of ['js', 'simd'] as const) {
        setGfKernel(name);
        const checks = Array.from({ length: m }, () => new Uint8Array(len));
        erasureEncode(data, checks);
        checksBy[name] = checks;
        // lose the first m data blocks (all of them when k < m)
        const blocks: (Uint8Array | null)[] = [...data, ...checks];
        for (let i = 0; i < Math.min(m, k); i++) blocks[i] = null;
        erasureDecode(blocks, k, m, len);
        let ok = true;
        for (let j = 0; j < k; j++) if (Buffer.compare(blocks[j] as Uint8Array, data[j]) !== 0) ok = false;
        t.ok(ok, `${name}: k=${k} m=${m} len=${len} decodes`);
      }
    } finally {
      setGfKernel(prev);
    }
    t.same(checksBy.simd, checksBy.js, `k=${k} m=${m}: same check blocks`);
  }
});
