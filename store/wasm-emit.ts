// A tiny WebAssembly binary writer: just what store/gf256-simd.ts needs to build its kernel at
// module load (no wat compiler, no file I/O). It writes a module that imports one memory and
// defines and exports functions; function bodies are byte arrays made with the opcode helpers
// below. Encoding (WebAssembly core spec 1.0 §5 "Binary format", SIMD proposal for 0xfd):
//
//   module   = 00 61 73 6d ("\0asm")  01 00 00 00 (version 1)  section*
//   section  = id:u8  size:u32  contents          (sections in id order; u32 = unsigned LEB128)
//   1 type   = vec(60 vec(param types) vec(result types))     one functype per function
//   2 import = vec(name(module) name(field) 02 limits)         02 = memory; limits 00 min
//   3 func   = vec(type index)                                 function i uses type i
//   7 export = vec(name 00 funcidx)                            00 = function
//   10 code  = vec(size:u32  vec(count:u32 type)  expr  0b)    locals in runs of one type
//   name     = vec(utf-8 bytes); vec(x) = count:u32 then the items
//   types: i32 = 7f, v128 = 7b.  memarg = align:u32 (log2 bytes) offset:u32.
//   SIMD instructions are fd followed by their opcode as u32 LEB128 (so 0x100 is fd 80 02).

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`wasm-emit: bad u32 ${n}`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function s32(n: number): number[] {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`wasm-emit: bad s32 ${n}`);
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];

// --- instructions (each returns its bytes) ---
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...u32(code), ...imm];
export const op = {
  localGet: (i: number) => [0x20, ...u32(i)],
  localSet: (i: number) => [0x21, ...u32(i)],
  localTee: (i: number) => [0x22, ...u32(i)],
  i32Const: (n: number) => [0x41, ...s32(n)],
  i32Eqz: [0x45],
  i32Ne: [0x47],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  block: [0x02, 0x40], // with the empty block type
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...u32(depth)],
  brIf: (depth: number) => [0x0d, ...u32(depth)],
  // memarg align 4 (2^4 = 16 bytes, the natural alignment; a hint only)
  v128Load: (offset: number) => simd(0x00, 4, ...u32(offset)),
  v128Store: (offset: number) => simd(0x0b, 4, ...u32(offset)),
  v128Const: (bytes: ArrayLike<number>) => {
    if (bytes.length !== 16) throw new RangeError('wasm-emit: v128.const takes 16 bytes');
    return simd(0x0c, ...Array.from(bytes));
  },
  i8x16Swizzle: simd(0x0e),
  i8x16RelaxedSwizzle: simd(0x100), // relaxed SIMD: undefined for indices >= 16, so mask first
  v128And: simd(0x4e),
  v128Xor: simd(0x51),
  i16x8ShrU: simd(0x8d),
};

export interface FuncDef {
  name: string; // export name
  params: number[];
  results: number[];
  locals: number[]; // types of the locals after the params, in index order
  body: number[]; // the instructions, without the final `end`
}

function localRuns(types: number[]): number[][] {
  const runs: number[][] = [];
  for (let i = 0; i < types.length; ) {
    let j = i;
    while (j < types.length && types[j] === types[i]) j++;
    runs.push([...u32(j - i), types[i]]);
    i = j;
  }
  return runs;
}

/** A module importing memory `module.field` (at least `minPages` 64 KiB pages) and exporting `funcs`. */
export function emitModule(memory: { module: string; field: string; minPages: number }, funcs: FuncDef[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const imports = [[...name(memory.module), ...name(memory.field), 0x02, 0x00, ...u32(memory.minPages)]];
  const exports = funcs.map((f, i) => [...name(f.name), 0x00, ...u32(i)]);
  const codes = funcs.map((f) => {
    const body = [...vec(localRuns(f.locals)), ...f.body, ...op.end];
    return [...u32(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs.map((_, i) => u32(i)))),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}
