// POLYVAL (RFC 8452 §3), the universal hash under CGO's PRF and ET (Tor proposal 359), in plain
// TypeScript: OpenSSL does not expose it, and noble's version (kept as the reference in the tests) is
// about ten times slower than CGO needs for its 512-byte tweak per relay cell.
//
// Representation: a field element is 16 bytes read as a little-endian 128-bit integer whose bit i is
// the coefficient of x^i (POLYVAL is GHASH without GHASH's bit reflection), held as four int32 limbs
// z0 (bits 0-31) .. z3 (bits 96-127). The field is GF(2)[x] / P with P = x^128+x^127+x^126+x^121+1.
//
// POLYVAL(H, X_1..X_n) = S_n with S_i = dot(S_{i-1} ^ X_i, H) and dot(a, b) = a·b·x^-128. The x^-128
// is folded into the key once (H' = H·x^-128), so each block costs one plain product (S ^ X)·H'.
// Products use Shoup's tables: T[b] = b(x)·H' for every byte b (8-bit table, 4 KiB) or every nibble
// (4-bit table, 256 bytes), and Horner over the other factor, most significant digit first:
// Z := Z·x^8 + T[byte]. Z·x^8 is a shift plus a key-independent reduction R[o] = o(x)·x^128 mod P of
// the digit o shifted out, which only has bits in limb 0 (bits 0-7) and limb 3 (bits 121-127).
//
// Two tiers, measured: the 8-bit table takes ~0.6 us to build and hashes 512 bytes in ~1.8 us; the
// 4-bit table builds in a few dozen nanoseconds but multiplies ~2.5x slower. CGO re-keys on every
// originated or recognised cell, and then hashes only one or two single blocks under its PRF key B,
// so a key starts on the 4-bit table and builds the 8-bit one once it has hashed a few blocks (a
// 32-block ET tweak builds it at once). No allocation per block; int32 typed arrays keep V8 on small
// integers. Lookups are indexed by data bytes, as in every table-driven GHASH.

/** The four words of an element, or of a run of 16-byte blocks, as little-endian int32 limbs. */
export type Words = Int32Array;

const REDUCE_HI = 0xc2000000 | 0; // x^127 + x^126 + x^121: P's top terms in limb 3
const UPGRADE_AFTER_BLOCKS = 3; // build the 8-bit table once a key has hashed this many blocks

/** a := a·x (in place). */
function mulX(a: Words): void {
  const c = a[3] >>> 31;
  a[3] = (a[3] << 1) | (a[2] >>> 31);
  a[2] = (a[2] << 1) | (a[1] >>> 31);
  a[1] = (a[1] << 1) | (a[0] >>> 31);
  a[0] = (a[0] << 1) ^ c;
  if (c) a[3] ^= REDUCE_HI;
}

/** a := a·x^-1 (in place): add P when the constant term is set, then divide by x. */
function mulXInverse(a: Words): void {
  const c = a[0] & 1;
  if (c) {
    a[0] ^= 1;
    a[3] ^= REDUCE_HI;
  }
  a[0] = (a[0] >>> 1) | (a[1] << 31);
  a[1] = (a[1] >>> 1) | (a[2] << 31);
  a[2] = (a[2] >>> 1) | (a[3] << 31);
  a[3] = (a[3] >>> 1) | (c << 31);
}

// R[o] = o(x)·x^128 mod P for each byte o, split into its two non-zero limbs. (Entries below 16 serve
// the 4-bit tier.)
const RLO = new Int32Array(256);
const RHI = new Int32Array(256);
for (let o = 0; o < 256; o++) {
  const w = new Int32Array([o, 0, 0, 0]);
  for (let i = 0; i < 128; i++) mulX(w);
  RLO[o] = w[0];
  RHI[o] = w[3];
}

/** Fill `t` (4 << bits int32) with T[d] = d(x)·h for every digit d of `bits` bits. */
function buildTable(t: Words, h: Words, bits: number): void {
  let w0 = h[0], w1 = h[1], w2 = h[2], w3 = h[3];
  t[0] = t[1] = t[2] = t[3] = 0;
  const end = 4 << bits;
  for (let p = 4; p < end; p <<= 1) {
    // T[2^k] = h·x^k, and T[2^k + d] = T[2^k] ^ T[d] for d < 2^k
    t[p] = w0;
    t[p + 1] = w1;
    t[p + 2] = w2;
    t[p + 3] = w3;
    for (let q = 4; q < p; q += 4) {
      t[p + q] = w0 ^ t[q];
      t[p + q + 1] = w1 ^ t[q + 1];
      t[p + q + 2] = w2 ^ t[q + 2];
      t[p + q + 3] = w3 ^ t[q + 3];
    }
    const c = w3 >>> 31;
    w3 = (w3 << 1) | (w2 >>> 31);
    w2 = (w2 << 1) | (w1 >>> 31);
    w1 = (w1 << 1) | (w0 >>> 31);
    w0 = (w0 << 1) ^ c;
    if (c) w3 ^= REDUCE_HI;
  }
}

/**
 * acc := POLYVAL continued over `blocks` 16-byte blocks of `d` from word `off` (4 words per block):
 * for each block X, acc := (acc ^ X)·h where `t` is h's 8-bit table. Unrolled over the 16 bytes.
 */
function absorb8(t: Words, acc: Words, d: Words, off: number, blocks: number): void {
  let z0 = acc[0], z1 = acc[1], z2 = acc[2], z3 = acc[3];
  let i = 0, o = 0;
  for (let n = 0; n < blocks; n++, off += 4) {
    const a0 = z0 ^ d[off], a1 = z1 ^ d[off + 1], a2 = z2 ^ d[off + 2], a3 = z3 ^ d[off + 3];
    i = (a3 >>> 22) & 1020; z0 = t[i]; z1 = t[i + 1]; z2 = t[i + 2]; z3 = t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a3 >>> 14) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a3 >>> 6) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a3 << 2) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a2 >>> 22) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a2 >>> 14) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a2 >>> 6) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a2 << 2) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a1 >>> 22) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a1 >>> 14) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a1 >>> 6) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a1 << 2) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a0 >>> 22) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a0 >>> 14) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a0 >>> 6) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
    o = z3 >>> 24; z3 = ((z3 << 8) | (z2 >>> 24)) ^ RHI[o]; z2 = (z2 << 8) | (z1 >>> 24);
    z1 = (z1 << 8) | (z0 >>> 24); z0 = (z0 << 8) ^ RLO[o];
    i = (a0 << 2) & 1020; z0 ^= t[i]; z1 ^= t[i + 1]; z2 ^= t[i + 2]; z3 ^= t[i + 3];
  }
  acc[0] = z0;
  acc[1] = z1;
  acc[2] = z2;
  acc[3] = z3;
}

const DIGITS = new Int32Array(4);

/** As absorb8, with h's 4-bit table: 32 nibble steps per block. */
function absorb4(t: Words, acc: Words, d: Words, off: number, blocks: number): void {
  let z0 = acc[0], z1 = acc[1], z2 = acc[2], z3 = acc[3];
  const a = DIGITS;
  for (let n = 0; n < blocks; n++, off += 4) {
    a[0] = z0 ^ d[off];
    a[1] = z1 ^ d[off + 1];
    a[2] = z2 ^ d[off + 2];
    a[3] = z3 ^ d[off + 3];
    z0 = z1 = z2 = z3 = 0;
    for (let w = 3; w >= 0; w--) {
      const x = a[w];
      for (let s = 28; s >= 0; s -= 4) {
        const o = z3 >>> 28;
        z3 = ((z3 << 4) | (z2 >>> 28)) ^ RHI[o];
        z2 = (z2 << 4) | (z1 >>> 28);
        z1 = (z1 << 4) | (z0 >>> 28);
        z0 = (z0 << 4) ^ RLO[o];
        const i = ((x >>> s) & 15) << 2;
        z0 ^= t[i];
        z1 ^= t[i + 1];
        z2 ^= t[i + 2];
        z3 ^= t[i + 3];
      }
    }
  }
  a.fill(0);
  acc[0] = z0;
  acc[1] = z1;
  acc[2] = z2;
  acc[3] = z3;
}

/** The little-endian 32-bit word of `b` at byte `off` (independent of the host's byte order). */
function wordLE(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

// x^-128 mod P, and its 8-bit table: H' = H·x^-128 is one table product.
const X_INV_128 = new Int32Array([1, 0, 0, 0]);
for (let i = 0; i < 128; i++) mulXInverse(X_INV_128);
const X_INV_128_TABLE = new Int32Array(1024);
buildTable(X_INV_128_TABLE, X_INV_128, 8);

/** True when an Int32Array view over bytes reads them as little-endian words (x86, arm64). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A POLYVAL key with its precomputed tables. `setKey` re-keys in place (no allocation), so a CGO
 * state keeps one instance per key slot across key updates.
 */
export class Polyval {
  private readonly hPrime = new Int32Array(4);
  private readonly table4 = new Int32Array(64);
  private readonly table8 = new Int32Array(1024);
  private has8 = false;
  private blocksHashed = 0;
  private readonly block = new Int32Array(4);

  constructor(key: Uint8Array, keyOffset = 0) {
    this.setKey(key, keyOffset);
  }

  /** Load the 16-byte key at key[keyOffset..]. */
  setKey(key: Uint8Array, keyOffset = 0): void {
    if (!(key instanceof Uint8Array) || keyOffset < 0 || key.length < keyOffset + 16) {
      throw new RangeError('polyval: key must be 16 bytes');
    }
    const h = this.block;
    h[0] = wordLE(key, keyOffset);
    h[1] = wordLE(key, keyOffset + 4);
    h[2] = wordLE(key, keyOffset + 8);
    h[3] = wordLE(key, keyOffset + 12);
    const hp = this.hPrime;
    hp.fill(0);
    absorb8(X_INV_128_TABLE, hp, h, 0, 1); // H·x^-128
    h.fill(0);
    buildTable(this.table4, hp, 4);
    this.has8 = false;
    this.blocksHashed = 0;
  }

  /**
   * Hot path: acc := POLYVAL continued over `blocks` whole blocks of `words` from word `off`.
   * `words` hold the blocks' bytes as little-endian int32 (an Int32Array view over the bytes on a
   * little-endian host). Start from acc = 0 for a fresh hash.
   */
  absorb(acc: Words, words: Words, off: number, blocks: number): void {
    if (!this.has8) {
      this.blocksHashed += blocks;
      if (this.blocksHashed < UPGRADE_AFTER_BLOCKS) {
        absorb4(this.table4, acc, words, off, blocks);
        return;
      }
      buildTable(this.table8, this.hPrime, 8);
      this.has8 = true;
    }
    absorb8(this.table8, acc, words, off, blocks);
  }

  /** acc := POLYVAL(H, block) of the single block bytes[off..off+16] (acc is overwritten). */
  hashBlock(acc: Words, bytes: Uint8Array, off: number): void {
    const s = this.block;
    s[0] = wordLE(bytes, off);
    s[1] = wordLE(bytes, off + 4);
    s[2] = wordLE(bytes, off + 8);
    s[3] = wordLE(bytes, off + 12);
    acc.fill(0);
    this.absorb(acc, s, 0, 1);
  }

  /** POLYVAL(H, data) over data zero-padded to whole blocks, as one update (no length block). */
  digest(data: Uint8Array): Uint8Array {
    const blocks = Math.ceil(data.length / 16);
    const padded = new Uint8Array(blocks * 16);
    padded.set(data);
    const words = new Int32Array(blocks * 4);
    for (let i = 0; i < words.length; i++) words[i] = wordLE(padded, 4 * i);
    const acc = new Int32Array(4);
    this.absorb(acc, words, 0, blocks);
    return wordsToBytes(acc);
  }
}

/** The 16 bytes of an element (little-endian limbs), independent of the host's byte order. */
export function wordsToBytes(w: Words, out = new Uint8Array(16), off = 0): Uint8Array {
  for (let i = 0; i < 4; i++) {
    const v = w[i];
    out[off + 4 * i] = v;
    out[off + 4 * i + 1] = v >>> 8;
    out[off + 4 * i + 2] = v >>> 16;
    out[off + 4 * i + 3] = v >>> 24;
  }
  return out;
}

/** One-shot POLYVAL (RFC 8452 §3) of `data` zero-padded to whole blocks, under a 16-byte key. */
export function polyval(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('polyval: data must be a Uint8Array');
  return new Polyval(key).digest(data);
}
