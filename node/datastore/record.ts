// The record format of datastore segment files (node/datastore/datastore.ts), a pure codec.
// A segment is a sequence of records, each a fixed 80-byte header, then (for a block record) the
// sealed block (store/slots.ts):
//   off len
//     0   4  magic "UMBS"
//     4   1  format version: 1 (block sealed with seal v1) or 2 (seal v2; tombstones)
//     5   1  kind: 1 CHK, 2 SSK
//     6   1  role: 1 store, 2 cache; 0 in a tombstone
//     7   1  type: 0 block, 1 tombstone (version 2 only)
//     8   4  block length, u32be (the kind's block length; 0 in a tombstone)
//    12   4  reserved, 0
//    16  32  slot (salted hash of kind and routing key; never the routing key)
//    48  16  nonce (random; seal v1 uses all 16 bytes, seal v2 the first 12); zero in a tombstone
//    64  16  MAC under the store's salt of bytes 0..64 ‖ segment number u64be ‖ offset u64be
//    80   …  sealed block (none in a tombstone)
// The MAC binds a header to its position, so a scan after a crash stops at the first torn or stale
// record instead of trusting garbage; the block itself is checked against its routing key on get.
// A tombstone says "every earlier record of this slot is gone": the datastore appends one when it
// evicts or drops a block, so the block stays gone after a restart although its bytes stay in the
// segment until compaction.

import { putU64be } from '../../crypto/bytes.ts';
import type { BlockKind, StoreRole } from '../../store/block-store.ts';
import { blockLength } from '../../store/block-verify.ts';
import { MAC_FIELDS_LEN, NONCE_LEN, type SaltedKeys, SLOT_LEN } from '../../store/slots.ts';

export const HEADER_LEN = 80;
const MAGIC = [0x55, 0x4d, 0x42, 0x53]; // "UMBS"
/** The version new records are written in; version 1 blocks (seal v1) are still read. */
export const FORMAT = 2;
const TYPE_BLOCK = 0;
const TYPE_TOMBSTONE = 1;
const SLOT_OFF = 16;
const NONCE_OFF = 48;
const MAC_OFF = 64;

export interface BlockHeader {
  type: 'block';
  version: 1 | 2;
  kind: BlockKind;
  role: StoreRole;
  length: number;
  slot: Uint8Array;
  nonce: Uint8Array;
}

export interface TombstoneHeader {
  type: 'tombstone';
  kind: BlockKind;
  length: 0;
  slot: Uint8Array;
}

export type RecordHeader = BlockHeader | TombstoneHeader;

// What a MAC covers, laid out in one scratch buffer (single-threaded and synchronous: each call is
// done with it before it returns; a put computes one MAC per record it writes).
const macFields = new Uint8Array(MAC_FIELDS_LEN);

function macFor(keys: SaltedKeys, header: Uint8Array, segment: number, offset: number): Uint8Array {
  macFields.set(header.subarray(0, MAC_OFF), 0);
  putU64be(macFields, MAC_OFF, segment);
  putU64be(macFields, MAC_OFF + 8, offset);
  return keys.headerMac(macFields);
}

interface Fields {
  kind: BlockKind;
  role: number;
  type: number;
  length: number;
  slot: Uint8Array;
  nonce: Uint8Array | null;
}

function encode(keys: SaltedKeys, f: Fields, segment: number, offset: number, into?: Uint8Array): Uint8Array {
  const b = into ?? new Uint8Array(HEADER_LEN);
  if (b.length !== HEADER_LEN) throw new RangeError(`record header: ${HEADER_LEN} bytes expected`);
  b.set(MAGIC, 0);
  b[4] = FORMAT;
  b[5] = f.kind === 'CHK' ? 1 : 2;
  b[6] = f.role;
  b[7] = f.type;
  b[8] = f.length >>> 24;
  b[9] = (f.length >>> 16) & 0xff;
  b[10] = (f.length >>> 8) & 0xff;
  b[11] = f.length & 0xff;
  b.fill(0, 12, 16);
  b.set(f.slot, SLOT_OFF);
  if (f.nonce) b.set(f.nonce, NONCE_OFF);
  else b.fill(0, NONCE_OFF, NONCE_OFF + NONCE_LEN);
  b.set(macFor(keys, b, segment, offset), MAC_OFF);
  return b;
}

/**
 * The header of a block record (format 2) at this position; written into `into` (HEADER_LEN bytes,
 * e.g. a scratch buffer the caller writes out at once) when given, else into a new buffer.
 */
export function encodeHeader(
  keys: SaltedKeys,
  h: { kind: BlockKind; role: StoreRole; length: number; slot: Uint8Array; nonce: Uint8Array },
  segment: number,
  offset: number,
  into?: Uint8Array,
): Uint8Array {
  return encode(keys, { kind: h.kind, role: h.role === 'store' ? 1 : 2, type: TYPE_BLOCK, length: h.length, slot: h.slot, nonce: h.nonce }, segment, offset, into);
}

/** A tombstone for a slot at this position (a header with no block after it). */
export function encodeTombstone(keys: SaltedKeys, kind: BlockKind, slot: Uint8Array, segment: number, offset: number): Uint8Array {
  return encode(keys, { kind, role: 0, type: TYPE_TOMBSTONE, length: 0, slot, nonce: null }, segment, offset);
}

/** Rewrite a header's MAC for a new position (compaction moves records byte for byte). */
export function rebindHeader(keys: SaltedKeys, header: Uint8Array, segment: number, offset: number): void {
  header.set(macFor(keys, header, segment, offset), MAC_OFF);
}

/** The header at this position, or null if it is torn, garbled, stale or not ours. */
export function decodeHeader(keys: SaltedKeys, b: Uint8Array, segment: number, offset: number): RecordHeader | null {
  if (b.length < HEADER_LEN) return null;
  for (let i = 0; i < 4; i++) if (b[i] !== MAGIC[i]) return null;
  const version = b[4], kindByte = b[5], role = b[6], type = b[7];
  if (kindByte !== 1 && kindByte !== 2) return null;
  if (type === TYPE_BLOCK) {
    if ((version !== 1 && version !== 2) || (role !== 1 && role !== 2)) return null;
  } else if (type !== TYPE_TOMBSTONE || version !== 2 || role !== 0) return null;
  const dv = new DataView(b.buffer, b.byteOffset, HEADER_LEN);
  if (dv.getUint32(12, false) !== 0) return null;
  const kind: BlockKind = kindByte === 1 ? 'CHK' : 'SSK';
  const length = dv.getUint32(8, false);
  if (length !== (type === TYPE_BLOCK ? blockLength(kind) : 0)) return null;
  if (!sameBytes(macFor(keys, b, segment, offset), b, MAC_OFF, 16)) return null;
  const slot = b.slice(SLOT_OFF, SLOT_OFF + SLOT_LEN);
  if (type === TYPE_TOMBSTONE) return { type: 'tombstone', kind, length: 0, slot };
  return {
    type: 'block',
    version: version as 1 | 2,
    kind,
    role: role === 1 ? 'store' : 'cache',
    length,
    slot,
    nonce: b.slice(NONCE_OFF, NONCE_OFF + NONCE_LEN),
  };
}

/**
 * For a get, which already knows what it expects at this position: the seal version (1 or 2) if
 * `b` starts with a block header of this kind, length and slot, else 0. The MAC is not checked here
 * (it was at open or when written): a header spoiled since then can only spoil the unsealing, and
 * the block's own check after it catches that, which is what guards what is served.
 */
export function blockHeaderVersion(b: Uint8Array, kind: BlockKind, length: number, slot: Uint8Array): 0 | 1 | 2 {
  if (b.length < HEADER_LEN || b[0] !== MAGIC[0] || b[1] !== MAGIC[1] || b[2] !== MAGIC[2] || b[3] !== MAGIC[3]) return 0;
  const version = b[4];
  if ((version !== 1 && version !== 2) || b[5] !== (kind === 'CHK' ? 1 : 2) || b[7] !== TYPE_BLOCK) return 0;
  if (((b[8] << 24) | (b[9] << 16) | (b[10] << 8) | b[11]) >>> 0 !== length) return 0;
  if (!sameBytes(slot, b, SLOT_OFF, SLOT_LEN)) return 0;
  return version;
}

/** The nonce of a header (a view into it). */
export const headerNonce = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset + NONCE_OFF, NONCE_LEN);

/** Whether a[0..n] equals b[at..at+n]. Constant time in the bytes compared (MACs go through it). */
function sameBytes(a: Uint8Array, b: Uint8Array, at: number, n: number): boolean {
  let d = a.length < n ? 1 : 0;
  for (let i = 0; i < n; i++) d |= a[i] ^ b[at + i];
  return d === 0;
}
