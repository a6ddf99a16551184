// Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d, generator 2), the
// field of most Reed-Solomon codes, and the one bulk kernel the erasure code needs: out_r = Σ_j
// coef[r][j] · src_j over whole blocks. Addition is XOR; multiplication uses a full 256×256 product
// table (64 KiB), so one row of it is the "multiply by c" map.
//
// gfMatMul runs the WebAssembly SIMD kernel of store/gf256-simd.ts where the runtime has one
// (Node 20 does), else the pure-JS kernel here (gfMatMulJs), which is also the tests' reference;
// setGfKernel('js') forces the JS kernel (tests, benchmarks).
//
// Speed (measured on this machine, one core, real GF rows): a byte-at-a-time table loop does
// ~0.9 GB/s per multiply-add; reading 32-bit words and doing the four lookups in registers,
// ~1.1 GB/s; updating four outputs per source word read (mulAdd4), ~1.35 GB/s. So with the JS
// kernel a segment costs m multiply-adds per data byte: 32+8 encodes at ~115-165 MB/s, 32+16 at
// ~85 MB/s (constants.ts). The SIMD kernel encodes 32+8 at ~2-2.7 GB/s of data
// (tools/bench/erasure.ts).
import { createGfSimdKernel } from './gf256-simd.ts';

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}

/** MUL[a * 256 + b] = a · b */
const MUL = new Uint8Array(65536);
for (let a = 1; a < 256; a++) for (let b = 1; b < 256; b++) MUL[a * 256 + b] = EXP[LOG[a] + LOG[b]];

export function gfMul(a: number, b: number): number {
  return MUL[(a << 8) | b];
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('gf256: zero has no inverse');
  return EXP[255 - LOG[a]];
}

/** ROWS[c] is the "multiply by c" map, a 256-byte array of its own. */
const ROWS: Uint8Array[] = [];
for (let c = 0; c < 256; c++) ROWS.push(MUL.slice(c * 256, c * 256 + 256));
function rowOf(c: number): Uint8Array {
  return ROWS[c];
}

function mulAdd1(d: Uint32Array, s: Uint32Array, r: Uint8Array): void {
  for (let i = 0; i < d.length; i++) {
    const v = s[i];
    d[i] ^= r[v & 255] | (r[(v >>> 8) & 255] << 8) | (r[(v >>> 16) & 255] << 16) | (r[v >>> 24] << 24);
  }
}

function mulAdd4(
  d0: Uint32Array, d1: Uint32Array, d2: Uint32Array, d3: Uint32Array, s: Uint32Array,
  r0: Uint8Array, r1: Uint8Array, r2: Uint8Array, r3: Uint8Array,
): void {
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    const a = v & 255, b = (v >>> 8) & 255, c = (v >>> 16) & 255, e = v >>> 24;
    d0[i] ^= r0[a] | (r0[b] << 8) | (r0[c] << 16) | (r0[e] << 24);
    d1[i] ^= r1[a] | (r1[b] << 8) | (r1[c] << 16) | (r1[e] << 24);
    d2[i] ^= r2[a] | (r2[b] << 8) | (r2[c] << 16) | (r2[e] << 24);
    d3[i] ^= r3[a] | (r3[b] << 8) | (r3[c] << 16) | (r3[e] << 24);
  }
}

function xorInto(d: Uint32Array, s: Uint32Array): void {
  for (let i = 0; i < d.length; i++) d[i] ^= s[i];
}

/** A Uint32Array over the same bytes (length must be a multiple of 4, offset 4-aligned). */
export function words(b: Uint8Array): Uint32Array {
  if (b.length % 4 !== 0 || b.byteOffset % 4 !== 0) throw new RangeError('gf256: blocks must be 4-byte sized and aligned');
  return new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
}

const simd = createGfSimdKernel(MUL);
/** True if this runtime runs the WebAssembly SIMD kernel. */
export const gfSimdAvailable = simd !== null;
export type GfKernelName = 'simd' | 'js';
let kernel: GfKernelName = simd !== null ? 'simd' : 'js';

/** The kernel gfMatMul uses: 'simd' by default where available, else 'js'. */
export function gfKernel(): GfKernelName {
  return kernel;
}

/**
 * Chooses gfMatMul's kernel for the whole process (tests and benchmarks); returns the previous
 * choice. 'simd' where it is unavailable is a RangeError.
 */
export function setGfKernel(name: GfKernelName): GfKernelName {
  if (name === 'simd' ? simd === null : name !== 'js') throw new RangeError(`gf256: kernel ${name} unavailable`);
  const prev = kernel;
  kernel = name;
  return prev;
}

/**
 * outs[r] = Σ_j coef[r * srcs.length + j] · srcs[j], all blocks of one length (RangeError if
 * not). The outputs are overwritten. Sources and outputs must not overlap.
 */
export function gfMatMul(coef: Uint8Array, srcs: Uint32Array[], outs: Uint32Array[]): void {
  if (coef.length !== srcs.length * outs.length) throw new RangeError('gf256: coefficient matrix has the wrong size');
  const len = outs[0]?.length ?? srcs[0]?.length ?? 0;
  for (const b of srcs) if (b.length !== len) throw new RangeError('gf256: all blocks must have one length');
  for (const b of outs) if (b.length !== len) throw new RangeError('gf256: all blocks must have one length');
  if (kernel === 'simd' && simd !== null && srcs.length > 0) simd.matMul(coef, srcs, outs);
  else gfMatMulJs(coef, srcs, outs);
}

/** gfMatMul with the pure-JS kernel: the fallback, and the reference the SIMD kernel is tested against. */
export function gfMatMulJs(coef: Uint8Array, srcs: Uint32Array[], outs: Uint32Array[]): void {
  const n = srcs.length;
  if (coef.length !== n * outs.length) throw new RangeError('gf256: coefficient matrix has the wrong size');
  for (const o of outs) o.fill(0);
  let r = 0;
  for (; r + 4 <= outs.length; r += 4) {
    for (let j = 0; j < n; j++) {
      mulAdd4(outs[r], outs[r + 1], outs[r + 2], outs[r + 3], srcs[j],
        rowOf(coef[r * n + j]), rowOf(coef[(r + 1) * n + j]), rowOf(coef[(r + 2) * n + j]), rowOf(coef[(r + 3) * n + j]));
    }
  }
  for (; r < outs.length; r++) {
    for (let j = 0; j < n; j++) {
      const c = coef[r * n + j];
      if (c === 1) xorInto(outs[r], srcs[j]);
      else if (c !== 0) mulAdd1(outs[r], srcs[j], rowOf(c));
    }
  }
}

/** The inverse of an n×n matrix (row-major), or null if it is singular. Gauss-Jordan elimination. */
export function gfInvert(m: Uint8Array, n: number): Uint8Array | null {
  const a = m.slice();
  const inv = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < n && a[p * n + col] === 0) p++;
    if (p === n) return null;
    if (p !== col) {
      for (let j = 0; j < n; j++) {
        let t = a[p * n + j]; a[p * n + j] = a[col * n + j]; a[col * n + j] = t;
        t = inv[p * n + j]; inv[p * n + j] = inv[col * n + j]; inv[col * n + j] = t;
      }
    }
    const s = gfInv(a[col * n + col]);
    for (let j = 0; j < n; j++) {
      a[col * n + j] = gfMul(a[col * n + j], s);
      inv[col * n + j] = gfMul(inv[col * n + j], s);
    }
    for (let i = 0; i < n; i++) {
      const f = a[i * n + col];
      if (i === col || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[i * n + j] ^= gfMul(f, a[col * n + j]);
        inv[i * n + j] ^= gfMul(f, inv[col * n + j]);
      }
    }
  }
  return inv;
}
