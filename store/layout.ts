// Where each byte of content goes: content of `size` bytes is cut into BLOCK_LEN data blocks, the
// blocks into segments of k data blocks (the last segment may be shorter), and a segment of d data
// blocks gets ceil(d · m / k) check blocks, so a short last segment keeps the same loss fraction.
// Pure arithmetic, shared by split.ts, join.ts and the manifest checks.
import { BLOCK_LEN, BLOCK_REF_LEN } from './constants.ts';

export interface Layout {
  size: number;
  k: number;
  m: number;
  blocks: number; // data blocks in all
  segments: number;
}

export function layoutOf(size: number, k: number, m: number): Layout {
  const blocks = Math.ceil(size / BLOCK_LEN);
  return { size, k, m, blocks, segments: Math.ceil(blocks / k) };
}

/** Data and check block counts of segment `s`. */
export function segmentShape(l: Layout, s: number): { data: number; check: number } {
  const data = Math.min(l.k, l.blocks - s * l.k);
  return { data, check: Math.ceil((data * l.m) / l.k) };
}

/** Bytes of the manifest entry of segment `s` (one routingKey ‖ cryptoKey per block). */
export function segmentEntryLen(l: Layout, s: number): number {
  const { data, check } = segmentShape(l, s);
  return (data + check) * BLOCK_REF_LEN;
}

/** Plaintext length of data block `j` of segment `s`. */
export function dataBlockLen(l: Layout, s: number, j: number): number {
  return Math.min(BLOCK_LEN, l.size - (s * l.k + j) * BLOCK_LEN);
}
