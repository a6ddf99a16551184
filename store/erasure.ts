// The erasure code across the blocks of a segment: a systematic Reed-Solomon code over GF(2^8)
// with a Cauchy generator. A segment of k data blocks gets m check blocks; any k of the k + m
// blocks give back the data, so up to m may be lost (store/constants.ts says which k and m, and why).
//
// Generator: the k data blocks are sent as they are (identity rows); check block i is
//   check_i = Σ_j C[i][j] · data_j,  C[i][j] = 1 / (x_i + y_j),  x_i = i,  y_j = m + j
// (k + m ≤ 256, all x_i and y_j distinct). Every square submatrix of a Cauchy matrix is invertible,
// so every k×k matrix made of identity rows and rows of C is too: any k blocks suffice, which the
// tests check over random loss patterns. Decoding takes k available blocks (data first), inverts
// the k×k matrix of their generator rows (Gauss-Jordan, k^3 small operations) and computes only
// the missing data blocks from it.
import { GF_MAX_BLOCKS } from './constants.ts';
import { StoreError } from './errors.ts';
import { gfInv, gfInvert, gfMatMul, words } from './gf256.ts';

const cauchyCache = new Map<number, Uint8Array>();

/** The m×k Cauchy matrix of the check blocks (row-major), cached per shape. */
export function cauchyMatrix(k: number, m: number): Uint8Array {
  checkShape(k, m);
  const id = k * 512 + m;
  let c = cauchyCache.get(id);
  if (c === undefined) {
    c = new Uint8Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) c[i * k + j] = gfInv(i ^ (m + j));
    cauchyCache.set(id, c);
  }
  return c;
}

function checkShape(k: number, m: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 0 || k + m > GF_MAX_BLOCKS) {
    throw new RangeError(`erasure: bad shape k=${k} m=${m}`);
  }
}

function sameLength(blocks: readonly Uint8Array[], len: number): void {
  for (const b of blocks) if (b.length !== len) throw new RangeError('erasure: all blocks must have one length');
}

/** Writes the m check blocks of k data blocks (all one length, a multiple of 4) into `checks`. */
export function erasureEncode(data: readonly Uint8Array[], checks: readonly Uint8Array[]): void {
  const k = data.length, m = checks.length;
  if (m === 0) return;
  sameLength(data, data[0]?.length ?? 0);
  sameLength(checks, data[0].length);
  gfMatMul(cauchyMatrix(k, m), data.map(words), checks.map(words));
}

/**
 * Recovers missing data blocks in place. `blocks` holds the k data blocks then the m check blocks,
 * null where a block is missing; `len` is the block length. On return blocks[0..k) are all set
 * (recovered ones are new arrays). StoreError NOT_ENOUGH_BLOCKS if fewer than k are present.
 * Returns the indices of the data blocks it recovered.
 */
export function erasureDecode(blocks: (Uint8Array | null)[], k: number, m: number, len: number): number[] {
  checkShape(k, m);
  if (blocks.length !== k + m) throw new RangeError('erasure: expected k + m block slots');
  const missing: number[] = [];
  for (let j = 0; j < k; j++) if (blocks[j] === null) missing.push(j);
  if (missing.length === 0) return missing;
  const use: number[] = [];
  for (let i = 0; i < k + m && use.length < k; i++) if (blocks[i] !== null) use.push(i);
  if (use.length < k) {
    throw new StoreError('NOT_ENOUGH_BLOCKS', `${k + m - use.length} of ${k + m} blocks missing, at least ${k} needed`);
  }
  const present = use.map((i) => blocks[i] as Uint8Array);
  sameLength(present, len);
  const c = cauchyMatrix(k, m);
  const a = new Uint8Array(k * k);
  use.forEach((idx, r) => {
    if (idx < k) a[r * k + idx] = 1;
    else a.set(c.subarray((idx - k) * k, (idx - k + 1) * k), r * k);
  });
  const inv = gfInvert(a, k);
  if (inv === null) throw new Error('erasure: singular Cauchy submatrix (cannot happen)');
  const coef = new Uint8Array(missing.length * k);
  missing.forEach((d, r) => coef.set(inv.subarray(d * k, (d + 1) * k), r * k));
  const outs = missing.map(() => new Uint8Array(len));
  gfMatMul(coef, present.map(words), outs.map(words));
  missing.forEach((d, r) => (blocks[d] = outs[r]));
  return missing;
}
