// Salted slots for the on-disk block store (DESIGN.md "Store": the store cannot be listed by key, as
// Hyphanet's saltedhash store). Each store has a random 32-byte salt; a block is filed under
//   slot     = SHA-256(SLOT_LABEL ‖ 0x00 ‖ salt ‖ kind ‖ routingKey)
// and the first SEAL_LEN (64) bytes of the block are kept sealed, XORed with a keystream
//   sealKey  = SHA-256(SEAL_LABEL ‖ 0x00 ‖ salt ‖ kind ‖ routingKey)
//   stream   = HMAC-SHA-256(sealKey, nonce ‖ 0x00) ‖ HMAC-SHA-256(sealKey, nonce ‖ 0x01)
// (HMAC as a PRF in counter mode, as HKDF-Expand), with a random 16-byte nonce per record kept in
// the record header, so two versions of an SSK never share a keystream and records can be moved
// byte for byte. Two small HMACs cost less than setting up an AES-CTR cipher for 64 bytes.
// Why sealing, and why only a prefix: a CHK routing key is the hash of the whole block and an SSK's
// follows from its first 64 bytes (public key, doc tag), so blocks kept in clear would let whoever
// reads the disk list every routing key. With the prefix sealed, neither can be computed from a
// record without already knowing the routing key (the hash needs all bytes; the public key and doc
// tag are hidden), and the rest of the block is already ciphertext under the content's key. Sealing
// 64 bytes instead of 32 KiB keeps gets at the speed of the one hash they must do anyway. The slot
// says nothing without the salt; record headers carry a MAC under the salt so that a scan after a
// crash tells a real header from garbage. (As in Hyphanet, whoever holds the disk and a candidate
// key can still test for it: the salt is on the same disk. What is prevented is listing.)

import { nodeBackend } from '../crypto/backend-node.ts';
import { utf8 } from '../crypto/bytes.ts';
import type { BlockKind } from './block-store.ts';

export const SALT_LEN = 32;
export const SLOT_LEN = 32;
/** Bytes sealed at the start of every block (covers an SSK's public key and doc tag). */
export const SEAL_LEN = 64;
const SLOT_TAG = utf8('umbra/store/slot/v1\0');
const SEAL_TAG = utf8('umbra/store/seal/v1\0');
const HEADER_MAC_TAG = utf8('umbra/store/record-header/v1\0');
const KIND_BYTE: Record<BlockKind, Uint8Array> = { CHK: Uint8Array.of(1), SSK: Uint8Array.of(2) };

export function slotOf(salt: Uint8Array, kind: BlockKind, routingKey: Uint8Array): Uint8Array {
  return nodeBackend.sha256(SLOT_TAG, salt, KIND_BYTE[kind], routingKey);
}

export function sealKeyOf(salt: Uint8Array, kind: BlockKind, routingKey: Uint8Array): Uint8Array {
  return nodeBackend.sha256(SEAL_TAG, salt, KIND_BYTE[kind], routingKey);
}

const CTR0 = Uint8Array.of(0), CTR1 = Uint8Array.of(1);

/** The block's first SEAL_LEN bytes, sealed or unsealed (an XOR: the same operation both ways). */
export function sealPrefix(sealKey: Uint8Array, nonce: Uint8Array, block: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_LEN);
  out.set(nodeBackend.hmacSha256(sealKey, nonce, CTR0), 0);
  out.set(nodeBackend.hmacSha256(sealKey, nonce, CTR1), 32);
  for (let i = 0; i < SEAL_LEN; i++) out[i] ^= block[i];
  return out;
}

/** A 16-byte MAC of a record header's fields (truncated HMAC-SHA-256 under the salt). */
export function headerMac(salt: Uint8Array, fields: Uint8Array): Uint8Array {
  return nodeBackend.hmacSha256(salt, HEADER_MAC_TAG, fields).subarray(0, 16);
}
