// Salted slots for the on-disk block store (DESIGN.md "Store": the store cannot be listed by key, as
// Hyphanet's saltedhash store). Each store has a random 32-byte salt; a block is filed under
//   slot     = SHA-256(SLOT_LABEL ‖ 0x00 ‖ salt ‖ kind ‖ routingKey)
// and the first SEAL_LEN (64) bytes of the block are kept sealed, XORed with a keystream made from
// the routing key and a random nonce kept in the record header (so two versions of an SSK never
// share a keystream, and records can be moved byte for byte):
//   seal v2 (written now): stream = ChaCha20(key = routingKey, nonce = the record nonce's first 12
//                          bytes, from block counter 1) (RFC 8439 §2.4: the keystream that
//                          ChaCha20-Poly1305, §2.8, encrypts with)
//   seal v1 (still read):  sealKey = SHA-256(SEAL_LABEL ‖ 0x00 ‖ salt ‖ kind ‖ routingKey),
//                          stream = HMAC-SHA-256(sealKey, nonce ‖ 0x00) ‖ HMAC-SHA-256(sealKey, nonce ‖ 0x01)
// Both are keyed by what the disk does not hold: the routing key, a uniformly random 32-byte hash
// to whoever does not already know the block (a CHK's is the block's hash; an SSK's follows from its
// public key and doc tag, the very bytes sealed). v2 is one native call instead of a hash and two
// HMACs (~1 us instead of ~6 us), which matters because every get unseals. Random 96-bit nonces do
// not repeat in practice, so no two records share a keystream; the salt adds nothing to a seal
// (it is on the same disk) and v2 leaves it out. Why sealing, and why only a prefix: a CHK routing
// key is the hash of the whole block and an SSK's follows from its first 64 bytes (public key, doc
// tag), so blocks kept in clear would let whoever reads the disk list every routing key. With the
// prefix sealed, neither can be computed from a record without already knowing the routing key (the
// hash needs all bytes; the public key and doc tag are hidden), and the rest of the block is already
// ciphertext under the content's key. Sealing 64 bytes instead of 32 KiB keeps gets at the speed
// of the one hash they must do anyway. The slot says nothing without the salt; record headers carry
// a MAC under the salt so that a scan after a crash tells a real header from garbage. (As in
// Hyphanet, whoever holds the disk and a candidate key can still test for it: the salt is on the
// same disk. What is prevented is listing.)
//
// SaltedKeys computes one store's slots and header MACs with the constant parts (label, salt, HMAC
// pads) laid out once, so each hash is one native call over one buffer.

import { nodeBackend } from '../crypto/backend-node.ts';
import { utf8 } from '../crypto/bytes.ts';
import type { BlockKind } from './block-store.ts';

export const SALT_LEN = 32;
export const SLOT_LEN = 32;
export const NONCE_LEN = 16;
/** Bytes sealed at the start of every block (covers an SSK's public key and doc tag). */
export const SEAL_LEN = 64;
const SLOT_TAG = utf8('umbra/store/slot/v1\0');
const SEAL_TAG = utf8('umbra/store/seal/v1\0');
const HEADER_MAC_TAG = utf8('umbra/store/record-header/v1\0');
const KIND_BYTE: Record<BlockKind, Uint8Array> = { CHK: Uint8Array.of(1), SSK: Uint8Array.of(2) };
const HMAC_BLOCK = 64;
const CHACHA_NONCE_LEN = 12;
/** Bytes of record header a MAC covers (record.ts: the header's first 64 bytes ‖ segment ‖ offset). */
export const MAC_FIELDS_LEN = 80;

export function slotOf(salt: Uint8Array, kind: BlockKind, routingKey: Uint8Array): Uint8Array {
  return nodeBackend.sha256(SLOT_TAG, salt, KIND_BYTE[kind], routingKey);
}

export function sealKeyOf(salt: Uint8Array, kind: BlockKind, routingKey: Uint8Array): Uint8Array {
  return nodeBackend.sha256(SEAL_TAG, salt, KIND_BYTE[kind], routingKey);
}

const CTR0 = Uint8Array.of(0), CTR1 = Uint8Array.of(1);

/** Seal v1: the block's first SEAL_LEN bytes, sealed or unsealed (an XOR: the same operation both ways). */
export function sealPrefix(sealKey: Uint8Array, nonce: Uint8Array, block: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_LEN);
  out.set(nodeBackend.hmacSha256(sealKey, nonce, CTR0), 0);
  out.set(nodeBackend.hmacSha256(sealKey, nonce, CTR1), 32);
  for (let i = 0; i < SEAL_LEN; i++) out[i] ^= block[i];
  return out;
}

/**
 * Seal v2: the block's first SEAL_LEN bytes, sealed or unsealed (an XOR), written over `out` (may
 * be `block`: unsealed in place). One ChaCha20 call from block counter 1, the keystream
 * ChaCha20-Poly1305 encrypts with (so records written when this was an AEAD call read the same).
 */
export function sealV2(routingKey: Uint8Array, nonce: Uint8Array, block: Uint8Array, out: Uint8Array = new Uint8Array(SEAL_LEN)): Uint8Array {
  const n = nonce.length === CHACHA_NONCE_LEN ? nonce : nonce.subarray(0, CHACHA_NONCE_LEN);
  nodeBackend.chacha20Xor(routingKey, n, 1, block.length === SEAL_LEN ? block : block.subarray(0, SEAL_LEN), out.length === SEAL_LEN ? out : out.subarray(0, SEAL_LEN));
  return out;
}

/** A 16-byte MAC of a record header's fields (truncated HMAC-SHA-256 under the salt). */
export function headerMac(salt: Uint8Array, fields: Uint8Array): Uint8Array {
  return nodeBackend.hmacSha256(salt, HEADER_MAC_TAG, fields).subarray(0, 16);
}

/** One store's slots and header MACs, each hash's input laid out once in one buffer. Not reentrant (synchronous use only). */
export class SaltedKeys {
  private readonly slotIn: Uint8Array; // SLOT_TAG ‖ salt ‖ kind ‖ routingKey
  private readonly slotAt: number;
  private readonly macIn: Uint8Array; // (salt ⊕ ipad) ‖ HEADER_MAC_TAG ‖ fields: HMAC's inner hash
  private readonly macOut: Uint8Array; // (salt ⊕ opad) ‖ inner hash: its outer hash

  constructor(readonly salt: Uint8Array) {
    if (salt.length !== SALT_LEN) throw new RangeError(`salted keys: salt must be ${SALT_LEN} bytes`);
    this.slotAt = SLOT_TAG.length + SALT_LEN;
    this.slotIn = new Uint8Array(this.slotAt + 1 + 32);
    this.slotIn.set(SLOT_TAG, 0);
    this.slotIn.set(salt, SLOT_TAG.length);
    this.macIn = new Uint8Array(HMAC_BLOCK + HEADER_MAC_TAG.length + MAC_FIELDS_LEN);
    this.macOut = new Uint8Array(HMAC_BLOCK + 32);
    for (let i = 0; i < HMAC_BLOCK; i++) {
      this.macIn[i] = (salt[i] ?? 0) ^ 0x36; // the salt is shorter than a block: zero-padded, as HMAC does
      this.macOut[i] = (salt[i] ?? 0) ^ 0x5c;
    }
    this.macIn.set(HEADER_MAC_TAG, HMAC_BLOCK);
  }

  /** = slotOf(salt, kind, routingKey). */
  slot(kind: BlockKind, routingKey: Uint8Array): Uint8Array {
    this.slotIn[this.slotAt] = KIND_BYTE[kind][0];
    this.slotIn.set(routingKey, this.slotAt + 1);
    return nodeBackend.sha256(this.slotIn);
  }

  /** = headerMac(salt, fields), as two hashes over prepared pads. */
  headerMac(fields: Uint8Array): Uint8Array {
    if (fields.length !== MAC_FIELDS_LEN) throw new RangeError(`header MAC: fields must be ${MAC_FIELDS_LEN} bytes`);
    this.macIn.set(fields, HMAC_BLOCK + HEADER_MAC_TAG.length);
    this.macOut.set(nodeBackend.sha256(this.macIn), HMAC_BLOCK);
    return nodeBackend.sha256(this.macOut).subarray(0, 16);
  }
}
