// `node --import=tsx tools/bench/erasure.ts [--quick]`: throughput of the segment erasure code
// (store/erasure.ts) with the pure-JS GF(2^8) kernel and the WebAssembly SIMD one
// (store/gf256-simd.ts), side by side in one run. Rows: 32+8 encode, 32+8 decode with 8 data
// blocks lost (the worst case: every check block is used; includes the 32×32 inversion), and
// 32+16 encode. MB/s counts data bytes (32 blocks of 32 KiB per segment). Each figure is the best
// of three timed runs over a fixed number of segments, after a warm-up. Wall-clock time on a
// shared 2-core machine: noisy.
import { erasureDecode, erasureEncode } from '../../store/erasure.ts';
import { kernelValidates } from '../../store/gf256-simd.ts';
import { gfSimdAvailable, setGfKernel, type GfKernelName } from '../../store/gf256.ts';

const quick = process.argv.includes('--quick');
const K = 32, LEN = 32768;
const SEGMENTS: Record<GfKernelName, number> = quick ? { js: 8, simd: 64 } : { js: 32, simd: 256 };

function randomBlock(): Uint8Array {
  const b = new Uint8Array(LEN);
  for (let off = 0; off < LEN; off += 65536) globalThis.crypto.getRandomValues(b.subarray(off, Math.min(LEN, off + 65536)));
  return b;
}
const data = Array.from({ length: K }, randomBlock);

/** Best MB/s (data bytes) of three runs of `op` over `segments` segments, after one warm-up run. */
function rate(segments: number, op: () => void): number {
  let best = Infinity;
  for (let run = 0; run < 4; run++) {
    const t0 = performance.now();
    for (let i = 0; i < segments; i++) op();
    const s = (performance.now() - t0) / 1000;
    if (run > 0) best = Math.min(best, s);
  }
  return (segments * K * LEN) / 1e6 / best;
}

function encodeOp(m: number): () => void {
  const checks = Array.from({ length: m }, () => new Uint8Array(LEN));
  return () => erasureEncode(data, checks);
}

function decodeOp(m: number): () => void {
  const checks = Array.from({ length: m }, () => new Uint8Array(LEN));
  erasureEncode(data, checks);
  const blocks: (Uint8Array | null)[] = [...data, ...checks];
  return () => {
    for (let i = 0; i < m; i++) blocks[i] = null;
    erasureDecode(blocks, K, m, LEN);
  };
}

const rows: { name: string; make: () => () => void }[] = [
  { name: '32+8 encode', make: () => encodeOp(8) },
  { name: '32+8 decode, 8 data blocks lost', make: () => decodeOp(8) },
  { name: '32+16 encode', make: () => encodeOp(16) },
];

if (!gfSimdAvailable) process.stderr.write('WebAssembly SIMD unavailable: the SIMD column repeats the JS kernel\n');
const relaxed = kernelValidates(true);
console.log(`node ${process.version}, ${relaxed ? 'relaxed SIMD swizzle' : 'plain SIMD swizzle (no relaxed SIMD)'}, blocks of ${LEN} bytes`);
console.log('');
console.log('| operation | JS kernel MB/s | SIMD kernel MB/s | SIMD ÷ JS |');
console.log('|---|---:|---:|---:|');
const prev = setGfKernel('js');
try {
  for (const row of rows) {
    setGfKernel('js');
    const js = rate(SEGMENTS.js, row.make());
    if (gfSimdAvailable) setGfKernel('simd');
    const simd = rate(SEGMENTS.simd, row.make());
    console.log(`| ${row.name} | ${js.toFixed(0)} | ${simd.toFixed(0)} | ${(simd / js).toFixed(1)}× |`);
  }
} finally {
  setGfKernel(prev);
}
