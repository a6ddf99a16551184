// CHK, the content hash key: convergent encryption of one block of up to CHK_BLOCK_LEN (32 KiB)
// bytes, after Hyphanet's freenet.keys.ClientCHKBlock (DESIGN.md "Store"). Same plaintext, same
// block and keys, whoever inserts it; a node can check a block against its routing key without
// being able to read it.
//
//   cryptoKey  = SHA-256(CHK_CRYPTO_KEY_LABEL ‖ 0x00 ‖ plaintext)            (32 bytes, in the URI)
//   padded     = u16be(len) ‖ 14 zero bytes ‖ plaintext ‖ zeros to 16 + 32768 bytes
//   block      = AES-256-CTR(key = cryptoKey, iv = 0^16, padded)             (32784 bytes, stored)
//              = header (16 bytes, encrypted length + reserved) ‖ ciphertext (32768 bytes)
//   routingKey = SHA-256(CHK_ROUTING_KEY_LABEL ‖ 0x00 ‖ block)              (32 bytes, in the URI)
//
// Why it is safe and what each part does:
// - Fixed IV: a CTR key must never encrypt two messages. The key is the labelled hash of the
//   plaintext, so a second message under the same key would be a SHA-256 collision; the same
//   message under the same key is the same ciphertext, which is the point of convergence. The label
//   makes the key differ from any other hash of the data (e.g. a plain SHA-256 of the file).
// - Padding: every block is 32 KiB, so its length says nothing; the true length is in the
//   encrypted header. The pad is zeros, not Freenet's hash-seeded PRNG stream: under CTR the stored
//   pad bytes are the keystream of a key only URI holders know, as unpredictable to a store as any
//   pad would be, and to a URI holder the pad carries no information either way. Zeros are the
//   deterministic choice (convergence needs one), cost no extra pass, and let the decoder insist on
//   one canonical block per plaintext. (Known limit of all convergent encryption, Freenet's too: who
//   guesses a whole plaintext can confirm it by encoding it. Salting would end convergence.)
// - Integrity: no separate MAC is needed. The routing key authenticates the block, and the crypto
//   key is itself the plaintext's hash, so the decoder recomputes it; a wrong key shows first as a
//   nonzero reserved header or an impossible length, and always as a hash mismatch.

import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength, equalBytes, utf8 } from './bytes.ts';
import {
  CHK_BLOCK_LEN,
  CHK_CRYPTO_KEY_LABEL,
  CHK_ENCODED_LEN,
  CHK_HEADER_LEN,
  CHK_KEY_LEN,
  CHK_ROUTING_KEY_LABEL,
} from './constants.ts';
import { CryptoError } from './errors.ts';

export interface ChkEncoded {
  routingKey: Uint8Array; // where the block lives; what a store checks
  cryptoKey: Uint8Array; // decrypts and verifies the plaintext; only in the URI
  block: Uint8Array; // header ‖ ciphertext, CHK_ENCODED_LEN bytes
}

const CRYPTO_TAG = utf8(CHK_CRYPTO_KEY_LABEL + '\0');
const ROUTING_TAG = utf8(CHK_ROUTING_KEY_LABEL + '\0');
const ZERO_IV = new Uint8Array(16);
const ZEROS = new Uint8Array(CHK_ENCODED_LEN); // never written: compared against
let paddedScratch: Uint8Array | null = null;

/** The routing key of a block (what a store indexes it by). */
export function chkRoutingKey(block: Uint8Array, backend: CryptoBackend = nodeBackend): Uint8Array {
  return backend.sha256(ROUTING_TAG, block);
}

/** Encrypt one block of at most CHK_BLOCK_LEN bytes (RangeError if larger). Deterministic. */
export function chkEncode(plaintext: Uint8Array, backend: CryptoBackend = nodeBackend): ChkEncoded {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('chkEncode: expected Uint8Array');
  if (plaintext.length > CHK_BLOCK_LEN) throw new RangeError(`chkEncode: ${plaintext.length} bytes is over ${CHK_BLOCK_LEN}`);
  const cryptoKey = backend.sha256(CRYPTO_TAG, plaintext);
  // AES's input, laid out in one scratch buffer (filled and consumed within this call: a fresh
  // zeroed 32 KiB per block cost ~5 us at V8's baseline tier, on the inserting node's busiest path).
  const padded = (paddedScratch ??= new Uint8Array(CHK_ENCODED_LEN));
  padded[0] = plaintext.length >>> 8;
  padded[1] = plaintext.length & 0xff;
  padded.fill(0, 2, CHK_HEADER_LEN); // reserved
  padded.set(plaintext, CHK_HEADER_LEN);
  padded.fill(0, CHK_HEADER_LEN + plaintext.length); // the pad
  let block = backend.aesCtr(cryptoKey, ZERO_IV, padded);
  if (block.buffer === padded.buffer) block = block.slice(); // a backend that encrypted in place: the scratch is reused
  return { routingKey: chkRoutingKey(block, backend), cryptoKey, block };
}

/** What a node that cannot read the block checks before storing or serving it. Never throws on hostile bytes. */
export function chkVerify(routingKey: Uint8Array, block: Uint8Array, backend: CryptoBackend = nodeBackend): boolean {
  if (!(block instanceof Uint8Array) || block.length !== CHK_ENCODED_LEN) return false;
  if (!(routingKey instanceof Uint8Array) || routingKey.length !== CHK_KEY_LEN) return false;
  return equalBytes(chkRoutingKey(block, backend), routingKey);
}

/** Spare bytes chkVerifyInPlace needs right before a block in its buffer. */
export const CHK_VERIFY_ROOM = ROUTING_TAG.length;

/**
 * chkVerify for a block that sits in a larger buffer with CHK_VERIFY_ROOM spare bytes right before
 * it (the datastore reads a record header there): the routing-key label is written into those
 * bytes, so the hash is one call over one span (one-shot in backend-node.ts: ~1 us less per 32 KiB
 * block than chkVerify's two updates). Overwrites the spare bytes, never the block; RangeError if
 * there is no room.
 */
export function chkVerifyInPlace(routingKey: Uint8Array, block: Uint8Array, backend: CryptoBackend = nodeBackend): boolean {
  if (!(block instanceof Uint8Array) || block.length !== CHK_ENCODED_LEN) return false;
  if (!(routingKey instanceof Uint8Array) || routingKey.length !== CHK_KEY_LEN) return false;
  if (block.byteOffset < CHK_VERIFY_ROOM) throw new RangeError('chkVerifyInPlace: no room before the block');
  const span = new Uint8Array(block.buffer, block.byteOffset - CHK_VERIFY_ROOM, CHK_VERIFY_ROOM + block.length);
  span.set(ROUTING_TAG, 0);
  return equalBytes(backend.sha256(span), routingKey);
}

/** Verify and decrypt a block; CryptoError BAD_BLOCK unless it is exactly what the two keys name. */
export function chkDecode(
  routingKey: Uint8Array,
  cryptoKey: Uint8Array,
  block: Uint8Array,
  backend: CryptoBackend = nodeBackend,
): Uint8Array {
  checkLength('chk routing key', routingKey, CHK_KEY_LEN);
  checkLength('chk crypto key', cryptoKey, CHK_KEY_LEN);
  if (!(block instanceof Uint8Array) || block.length !== CHK_ENCODED_LEN) {
    throw new CryptoError('BAD_BLOCK', `chk: block must be ${CHK_ENCODED_LEN} bytes`);
  }
  if (!chkVerify(routingKey, block, backend)) throw new CryptoError('BAD_BLOCK', 'chk: block does not match its routing key');
  const padded = backend.aesCtr(cryptoKey, ZERO_IV, block);
  const len = (padded[0] << 8) | padded[1];
  if (len > CHK_BLOCK_LEN || !equalBytes(padded.subarray(2, CHK_HEADER_LEN), ZEROS.subarray(2, CHK_HEADER_LEN))) {
    throw new CryptoError('BAD_BLOCK', 'chk: bad header (wrong crypto key?)');
  }
  const end = CHK_HEADER_LEN + len;
  const plaintext = padded.subarray(CHK_HEADER_LEN, end);
  if (!equalBytes(backend.sha256(CRYPTO_TAG, plaintext), cryptoKey)) {
    throw new CryptoError('BAD_BLOCK', 'chk: plaintext does not match its crypto key');
  }
  if (!equalBytes(padded.subarray(end), ZEROS.subarray(end))) throw new CryptoError('BAD_BLOCK', 'chk: padding is not zero');
  return plaintext.slice();
}
