// The record format of datastore segment files (node/datastore/datastore.ts), a pure codec.
// A segment is a sequence of records, each a fixed header then the sealed block (store/slots.ts):
//   off len
//     0   4  magic "UMBS"
//     4   1  format version (1)
//     5   1  kind: 1 CHK, 2 SSK
//     6   1  role: 1 store, 2 cache
//     7   1  reserved, 0
//     8   4  block length, u32be
//    12   4  reserved, 0
//    16  32  slot (salted hash of kind and routing key; never the routing key)
//    48  16  nonce (random; the AES-CTR IV that sealed the block)
//    64  16  MAC under the store's salt of bytes 0..64 ‖ segment number u64be ‖ offset u64be
//    80   …  sealed block
// The MAC binds a header to its position, so a scan after a crash stops at the first torn or stale
// record instead of trusting garbage; the block itself is checked against its routing key on get.

import { equalBytes, u64be } from '../../crypto/bytes.ts';
import type { BlockKind, StoreRole } from '../../store/block-store.ts';
import { blockLength } from '../../store/block-verify.ts';
import { headerMac, SLOT_LEN } from '../../store/slots.ts';

export const HEADER_LEN = 80;
const MAGIC = [0x55, 0x4d, 0x42, 0x53]; // "UMBS"
const FORMAT = 1;
const MAC_OFF = 64;

export interface RecordHeader {
  kind: BlockKind;
  role: StoreRole;
  length: number;
  slot: Uint8Array;
  nonce: Uint8Array;
}

function macFor(salt: Uint8Array, header: Uint8Array, segment: number, offset: number): Uint8Array {
  const fields = new Uint8Array(MAC_OFF + 16);
  fields.set(header.subarray(0, MAC_OFF), 0);
  fields.set(u64be(segment), MAC_OFF);
  fields.set(u64be(offset), MAC_OFF + 8);
  return headerMac(salt, fields);
}

export function encodeHeader(salt: Uint8Array, h: RecordHeader, segment: number, offset: number): Uint8Array {
  const b = new Uint8Array(HEADER_LEN);
  b.set(MAGIC, 0);
  b[4] = FORMAT;
  b[5] = h.kind === 'CHK' ? 1 : 2;
  b[6] = h.role === 'store' ? 1 : 2;
  new DataView(b.buffer).setUint32(8, h.length, false);
  b.set(h.slot, 16);
  b.set(h.nonce, 48);
  b.set(macFor(salt, b, segment, offset), MAC_OFF);
  return b;
}

/** Rewrite a header's MAC for a new position (compaction moves records byte for byte). */
export function rebindHeader(salt: Uint8Array, header: Uint8Array, segment: number, offset: number): void {
  header.set(macFor(salt, header, segment, offset), MAC_OFF);
}

/** The header at this position, or null if it is torn, garbled, stale or not ours. */
export function decodeHeader(salt: Uint8Array, b: Uint8Array, segment: number, offset: number): RecordHeader | null {
  if (b.length < HEADER_LEN) return null;
  for (let i = 0; i < 4; i++) if (b[i] !== MAGIC[i]) return null;
  if (b[4] !== FORMAT || b[7] !== 0 || (b[5] !== 1 && b[5] !== 2) || (b[6] !== 1 && b[6] !== 2)) return null;
  if (!equalBytes(macFor(salt, b, segment, offset), b.subarray(MAC_OFF, HEADER_LEN))) return null;
  const kind: BlockKind = b[5] === 1 ? 'CHK' : 'SSK';
  const length = new DataView(b.buffer, b.byteOffset, HEADER_LEN).getUint32(8, false);
  if (length !== blockLength(kind)) return null;
  return {
    kind,
    role: b[6] === 1 ? 'store' : 'cache',
    length,
    slot: b.slice(16, 16 + SLOT_LEN),
    nonce: b.slice(48, 64),
  };
}
