// The GF(2^8) bulk kernel of store/gf256.ts (out_r = Σ_j coef[r][j] · src_j over whole blocks) in
// WebAssembly SIMD, built byte by byte at module load with store/wasm-emit.ts. store/gf256.ts
// dispatches to it when the runtime validates the module and keeps its pure-JS kernel as the
// fallback and as the reference the tests compare against.
//
// Method: split-nibble tables (Plank, Greenan, Miller, "Screaming fast Galois field arithmetic
// using Intel SIMD instructions", FAST 2013; the technique of ISA-L's gf_vect_dot_prod). For a
// coefficient c, lo[x] = c·x and hi[x] = c·(x << 4) for x < 16; then c·b = lo[b & 15] ^ hi[b >> 4],
// and `i8x16.swizzle(table, nibbles)` looks up 16 bytes at once. Per 16-byte lane of the blocks,
// the kernel keeps R output accumulators in registers and walks the sources: it loads 16 (or
// 16·U) source bytes once, splits them into nibbles, and for each of its R outputs loads that
// coefficient's two tables and XORs two swizzles into the accumulator; at the end of the sources
// it stores the R accumulators. So every source byte is read once per R outputs and every output
// byte written once.
//
// Memory (one imported WebAssembly.Memory, grown on demand, never shrunk):
//   [0, T)            tables: for each group of R output rows, for j < n, for r < R: 32 bytes
//                     (lo[0..16) then hi[0..16)) of coef[(r0 + r)·n + j]
//   [srcBase, ...)    n source strips, `stride` bytes apart
//   [outBase, ...)    the output strips, `stride` bytes apart
// Blocks are processed in strips of STRIP bytes: each strip of every source is copied in, all
// rows run, the output strips are copied back out (so each byte is copied once each way; the
// tables are rebuilt only when the coefficients change). Strips keep the working set in cache and
// bound the memory for any block length; the stride is kept off multiples of 4 KiB, where the
// sources would alias in the L1 cache's sets. A strip is rounded up to the kernel's step (16·U
// bytes) so any length that is a multiple of 4 works: the padding lanes compute garbage that is
// never copied out.
//
// Kernel k<R>(tab, src, sstride, n, out, ostride, len), all i32, for R = 1..MAX_ROWS:
//   for (i = 0; i < len; i += 16U) {                    // len > 0, a multiple of 16U; n > 0
//     acc[r][u] = 0; sp = src + i; tp = tab
//     for (j = n; j != 0; j--) {
//       x[u] = load(sp + 16u); lo[u] = x[u] & 0x0f..; hi[u] = (x[u] >>16 4) & 0x0f..
//       for r: tl = load(tp + 32r); th = load(tp + 32r + 16)
//              acc[r][u] ^= swizzle(tl, lo[u]) ^ swizzle(th, hi[u])
//       tp += 32R; sp += sstride
//     }
//     store(out + i + r·ostride + 16u, acc[r][u])
//   }
// Speed: see tools/bench/erasure.ts.
import { emitModule, type FuncDef, I32, op, V128 } from './wasm-emit.ts';

// Tuning (tools/bench/erasure.ts and a sweep, 32+8 at 32 KiB, CPU time, V8 11.3 on an AMD EPYC):
// (R, U) = (2, 2) ~2.7 GB/s of data, (3, 2) ~2.7, (4, 1) ~2.5, (8, 1) ~1.95 and (4, 2) ~1.75:
// V8 uses 16 xmm registers and more accumulators spill. Strips of 2, 4, 8, 16, 32 KiB: ~2.45,
// 2.6, 2.7, 2.7, 2.65 GB/s; copying in and out costs ~8% (the bare kernel ran ~2.9 GB/s).
// The plain i8x16.swizzle must give 0 for indices >= 16, which costs V8 (11.3, x64) a saturating
// add of a constant from memory before each pshufb; relaxed SIMD's swizzle is a bare pshufb (the
// indices here are masked below 16, so both give the same bytes): ~3.7 GB/s where it is enabled
// (Node 20: only with --experimental-wasm-relaxed-simd; shipped in later V8s).
/** Outputs per pass over the sources (the kernels k1..k<MAX_ROWS>). */
export const MAX_ROWS = 2;
/** 16-byte lanes per kernel step. */
const UNROLL = 2;
const STEP = 16 * UNROLL;
/** Bytes of each block per strip. */
const STRIP = 8192;
const PAGE = 65536;

// Parameter and local indices of a kernel.
const TAB = 0, SRC = 1, SSTRIDE = 2, N = 3, OUT = 4, OSTRIDE = 5, LEN = 6;
const I = 7, J = 8, SP = 9, TP = 10, OP = 11, MASK = 12;

function kernel(rows: number, unroll: number, relaxed: boolean): FuncDef {
  const x = (u: number) => MASK + 1 + u;
  const lo = (u: number) => MASK + 1 + unroll + u;
  const hi = (u: number) => MASK + 1 + 2 * unroll + u;
  const acc = (r: number, u: number) => MASK + 1 + 3 * unroll + r * unroll + u;
  const TL = MASK + 1 + 3 * unroll + rows * unroll, TH = TL + 1;
  const swizzle = relaxed ? op.i8x16RelaxedSwizzle : op.i8x16Swizzle;
  const b: number[] = [];
  const emit = (...parts: number[][]) => { for (const p of parts) b.push(...p); };

  emit(op.v128Const(new Array(16).fill(0x0f)), op.localSet(MASK));
  emit(op.i32Const(0), op.localSet(I));
  emit(op.block, op.localGet(LEN), op.i32Eqz, op.brIf(0));
  emit(op.loop); // lanes
  for (let r = 0; r < rows; r++) for (let u = 0; u < unroll; u++) emit(op.v128Const(new Array(16).fill(0)), op.localSet(acc(r, u)));
  emit(op.localGet(SRC), op.localGet(I), op.i32Add, op.localSet(SP));
  emit(op.localGet(TAB), op.localSet(TP));
  emit(op.localGet(N), op.localSet(J));
  emit(op.loop); // sources
  for (let u = 0; u < unroll; u++) {
    emit(op.localGet(SP), op.v128Load(16 * u), op.localTee(x(u)), op.localGet(MASK), op.v128And, op.localSet(lo(u)));
    emit(op.localGet(x(u)), op.i32Const(4), op.i16x8ShrU, op.localGet(MASK), op.v128And, op.localSet(hi(u)));
  }
  for (let r = 0; r < rows; r++) {
    emit(op.localGet(TP), op.v128Load(32 * r), op.localSet(TL));
    emit(op.localGet(TP), op.v128Load(32 * r + 16), op.localSet(TH));
    for (let u = 0; u < unroll; u++) {
      emit(op.localGet(acc(r, u)), op.localGet(TL), op.localGet(lo(u)), swizzle, op.v128Xor);
      emit(op.localGet(TH), op.localGet(hi(u)), swizzle, op.v128Xor, op.localSet(acc(r, u)));
    }
  }
  emit(op.localGet(TP), op.i32Const(32 * rows), op.i32Add, op.localSet(TP));
  emit(op.localGet(SP), op.localGet(SSTRIDE), op.i32Add, op.localSet(SP));
  emit(op.localGet(J), op.i32Const(1), op.i32Sub, op.localTee(J), op.brIf(0));
  emit(op.end); // sources
  emit(op.localGet(OUT), op.localGet(I), op.i32Add, op.localSet(OP));
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < unroll; u++) emit(op.localGet(OP), op.localGet(acc(r, u)), op.v128Store(16 * u));
    if (r + 1 < rows) emit(op.localGet(OP), op.localGet(OSTRIDE), op.i32Add, op.localSet(OP));
  }
  emit(op.localGet(I), op.i32Const(16 * unroll), op.i32Add, op.localTee(I), op.localGet(LEN), op.i32LtU, op.brIf(0));
  emit(op.end, op.end); // lanes, block
  return {
    name: `k${rows}`,
    params: [I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, ...new Array(1 + 3 * unroll + rows * unroll + 2).fill(V128)],
    body: b,
  };
}

/** The module's bytes: kernels k1..k<MAX_ROWS>, memory imported as env.mem. */
export function kernelModule(relaxed: boolean): Uint8Array {
  const funcs: FuncDef[] = [];
  for (let r = 1; r <= MAX_ROWS; r++) funcs.push(kernel(r, UNROLL, relaxed));
  return emitModule({ module: 'env', field: 'mem', minPages: 1 }, funcs);
}

// The WebAssembly API, declared here because the project's lib settings leave it out.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number }) => WasmMemory;
}
type Kernel = (tab: number, src: number, sstride: number, n: number, out: number, ostride: number, len: number) => void;

/** True if this runtime validates the kernel module (the relaxed-SIMD variant if `relaxed`). */
export function kernelValidates(relaxed: boolean): boolean {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  return wa !== undefined && wa.validate(kernelModule(relaxed));
}

export interface GfSimdKernel {
  /** True if it uses relaxed SIMD's swizzle. */
  readonly relaxed: boolean;
  /**
   * outs[r] = Σ_j coef[r·n + j] · srcs[j] (n = srcs.length ≥ 1), outputs overwritten. The caller
   * checks shapes: coef.length = n · outs.length, all blocks one length.
   */
  matMul(coef: Uint8Array, srcs: readonly Uint32Array[], outs: readonly Uint32Array[]): void;
}

/**
 * The SIMD kernel over the product table `mul` (mul[a·256 + b] = a·b), or null if this runtime
 * cannot run it. `relaxed`: true or false asks for (only) that variant; by default relaxed SIMD
 * is used where the runtime validates it, else plain SIMD. Each kernel has its own memory.
 */
export function createGfSimdKernel(mul: Uint8Array, opts: { relaxed?: boolean } = {}): GfSimdKernel | null {
  if (mul.length !== 65536) throw new RangeError('gf256-simd: the product table has 65536 entries');
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wa === undefined) return null;
  for (const relaxed of opts.relaxed === undefined ? [true, false] : [opts.relaxed]) {
    const bytes = kernelModule(relaxed);
    try {
      if (!wa.validate(bytes)) continue;
      const mem = new wa.Memory({ initial: 1 });
      const exports = new wa.Instance(new wa.Module(bytes), { env: { mem } }).exports;
      const kernels: Kernel[] = [];
      for (let r = 1; r <= MAX_ROWS; r++) kernels[r] = exports[`k${r}`] as Kernel;
      return new SimdKernel(mul, mem, kernels, relaxed);
    } catch {
      // a runtime that validates but refuses to compile or instantiate: use the next variant
    }
  }
  return null;
}

class SimdKernel implements GfSimdKernel {
  private readonly nib = new Uint8Array(256 * 32); // nib[c·32 + x] = c·x, nib[c·32 + 16 + x] = c·(x << 4)
  private heap: Uint8Array;
  private tabKey: Uint8Array | null = null; // the coefficients whose tables are at offset 0
  private tabN = 0;

  constructor(
    mul: Uint8Array,
    private readonly mem: WasmMemory,
    private readonly kernels: Kernel[],
    readonly relaxed: boolean,
  ) {
    for (let c = 0; c < 256; c++) {
      for (let x = 0; x < 16; x++) {
        this.nib[c * 32 + x] = mul[c * 256 + x];
        this.nib[c * 32 + 16 + x] = mul[c * 256 + (x << 4)];
      }
    }
    this.heap = new Uint8Array(mem.buffer);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.heap.length) return;
    this.mem.grow(Math.ceil((bytes - this.heap.length) / PAGE));
    this.heap = new Uint8Array(this.mem.buffer);
  }

  /** Writes the tables of `coef` (n columns) at offset 0 in kernel order, unless already there. */
  private tables(coef: Uint8Array, n: number): void {
    const key = this.tabKey;
    if (key !== null && this.tabN === n && key.length === coef.length) {
      let same = true;
      for (let i = 0; i < coef.length && same; i++) same = key[i] === coef[i];
      if (same) return;
    }
    const rows = coef.length / n, heap = this.heap, nib = this.nib;
    let p = 0;
    for (let r0 = 0; r0 < rows; r0 += MAX_ROWS) {
      const g = Math.min(MAX_ROWS, rows - r0);
      for (let j = 0; j < n; j++) {
        for (let r = 0; r < g; r++) {
          const c = coef[(r0 + r) * n + j] * 32;
          for (let x = 0; x < 32; x++) heap[p + x] = nib[c + x];
          p += 32;
        }
      }
    }
    this.tabKey = coef.slice();
    this.tabN = n;
  }

  matMul(coef: Uint8Array, srcs: readonly Uint32Array[], outs: readonly Uint32Array[]): void {
    const n = srcs.length, rows = outs.length;
    const len = rows === 0 ? 0 : outs[0].byteLength;
    if (len === 0) return;
    const strip = Math.min(STRIP, Math.ceil(len / STEP) * STEP);
    const stride = strip % 4096 === 0 ? strip + 64 : strip;
    const tabBytes = n * rows * 32;
    const srcBase = Math.ceil(tabBytes / 64) * 64;
    const outBase = srcBase + n * stride;
    this.reserve(outBase + rows * stride);
    this.tables(coef, n);
    const heap = this.heap;
    const src8 = srcs.map((s) => new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
    const out8 = outs.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    for (let off = 0; off < len; off += strip) {
      const w = Math.min(strip, len - off);
      const wk = Math.ceil(w / STEP) * STEP;
      for (let j = 0; j < n; j++) heap.set(src8[j].subarray(off, off + w), srcBase + j * stride);
      let tab = 0;
      for (let r0 = 0; r0 < rows; r0 += MAX_ROWS) {
        const g = Math.min(MAX_ROWS, rows - r0);
        this.kernels[g](tab, srcBase, stride, n, outBase + r0 * stride, stride, wk);
        tab += n * g * 32;
      }
      for (let r = 0; r < rows; r++) out8[r].set(heap.subarray(outBase + r * stride, outBase + r * stride + w), off);
    }
  }
}
