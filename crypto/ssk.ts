// SSK, the signed subspace key: a small updatable block signed under an Ed25519 key, after
// Hyphanet's freenet.keys.{ClientSSK, SSKBlock, NodeSSK} (DESIGN.md "Store"). The public URI is
// (pubKeyHash, cryptoKey, docName); the insert URI adds the signing seed. Stores verify blocks and
// keep the newest version per routing key without ever holding the crypto key.
//
// Derivations (SHA-256 / HMAC-SHA-256; every label is its UTF-8 string followed by 0x00):
//   pubKeyHash = SHA-256(SSK_PUBKEY_HASH_LABEL ‖ pubKey)
//   dn         = SHA-256(SSK_DOCNAME_LABEL ‖ docName)                         (docName as UTF-8)
//   docTag     = HMAC(cryptoKey, SSK_DOCTAG_LABEL ‖ dn)   keyed, like Freenet's E(H(docname)):
//                a store that knows the public key cannot confirm a guessed document name
//   routingKey = SHA-256(SSK_ROUTING_KEY_LABEL ‖ pubKeyHash ‖ docTag)        (no version in it)
//   encKey     = HMAC(cryptoKey, SSK_ENC_KEY_LABEL ‖ dn),  sivKey = HMAC(cryptoKey, SSK_SIV_KEY_LABEL ‖ dn)
//   body       = u16be(payload length) ‖ payload ‖ zeros to SSK_BODY_LEN (1026)
//   siv        = HMAC(sivKey, version u64be ‖ body)[0..16]
//   ciphertext = AES-256-CTR(encKey, iv = siv, body)
//   signature  = Ed25519(seed, SSK_SIGNATURE_LABEL ‖ block[0..1114))
//
// Block, exactly SSK_BLOCK_LEN = 1178 bytes:
//   off   len
//     0    32  Ed25519 public key
//    32    32  docTag
//    64     8  version, u64be (at most 2^53 - 1, a safe JS integer)
//    72    16  siv
//    88  1026  ciphertext (encrypted body)
//  1114    64  signature
//
// The synthetic IV (SIV) makes the encryption deterministic yet never reuses a keystream: two
// versions, or two different payloads mistakenly published under one version, get different IVs,
// so a store holding both learns nothing from their XOR. It is also a MAC under the crypto key.
// Checks run cheapest first: lengths, then the routing key (two hashes), then the signature.

import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength, concat, equalBytes, u64be, utf8 } from './bytes.ts';
import {
  ED25519_PUBLIC_LEN,
  ED25519_SEED_LEN,
  ED25519_SIG_LEN,
  SSK_BLOCK_LEN,
  SSK_BODY_LEN,
  SSK_DOCNAME_LABEL,
  SSK_DOCTAG_LABEL,
  SSK_ENC_KEY_LABEL,
  SSK_KEY_LEN,
  SSK_MAX_PAYLOAD,
  SSK_PUBKEY_HASH_LABEL,
  SSK_ROUTING_KEY_LABEL,
  SSK_SIGNATURE_LABEL,
  SSK_SIGNED_LEN,
  SSK_SIV_KEY_LABEL,
  SSK_SIV_LEN,
} from './constants.ts';
import { CryptoError } from './errors.ts';

const tag = (s: string): Uint8Array => utf8(s + '\0');
const PKH_TAG = tag(SSK_PUBKEY_HASH_LABEL);
const DN_TAG = tag(SSK_DOCNAME_LABEL);
const DOCTAG_TAG = tag(SSK_DOCTAG_LABEL);
const ENC_TAG = tag(SSK_ENC_KEY_LABEL);
const SIV_TAG = tag(SSK_SIV_KEY_LABEL);
const ROUTE_TAG = tag(SSK_ROUTING_KEY_LABEL);
const SIG_TAG = tag(SSK_SIGNATURE_LABEL);

const OFF_DOCTAG = 32;
const OFF_VERSION = 64;
const OFF_SIV = 72;
const OFF_BODY = OFF_SIV + SSK_SIV_LEN; // 88
const OFF_SIG = SSK_SIGNED_LEN; // 1114
const ZEROS = new Uint8Array(SSK_BODY_LEN); // never written: compared against

export type DocName = string | Uint8Array;

export interface SskKeypair {
  seed: Uint8Array; // Ed25519 seed: the insert URI's secret
  publicKey: Uint8Array;
  pubKeyHash: Uint8Array; // in the public URI
  cryptoKey: Uint8Array; // in the public URI; stores never see it
}

export interface SskEncodeInput {
  seed: Uint8Array;
  cryptoKey: Uint8Array;
  docName: DocName;
  version: number;
  payload: Uint8Array;
}

export interface SskDecodeInput {
  routingKey: Uint8Array;
  cryptoKey: Uint8Array;
  docName: DocName;
  block: Uint8Array;
  /** Accept only this version (WRONG_VERSION otherwise). */
  version?: number;
  /** Accept only this version or newer (WRONG_VERSION otherwise). */
  minVersion?: number;
}

function docNameHash(docName: DocName, backend: CryptoBackend): Uint8Array {
  if (typeof docName === 'string') return backend.sha256(DN_TAG, utf8(docName));
  if (docName instanceof Uint8Array) return backend.sha256(DN_TAG, docName);
  throw new TypeError('ssk: docName must be a string or Uint8Array');
}

function checkVersion(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`ssk: ${name} must be a safe non-negative integer`);
}

function bad(message: string): CryptoError {
  return new CryptoError('BAD_BLOCK', `ssk: ${message}`);
}

function docTagOf(cryptoKey: Uint8Array, dn: Uint8Array, backend: CryptoBackend): Uint8Array {
  return backend.hmacSha256(cryptoKey, DOCTAG_TAG, dn);
}

export function sskPubKeyHash(publicKey: Uint8Array, backend: CryptoBackend = nodeBackend): Uint8Array {
  checkLength('ssk public key', publicKey, ED25519_PUBLIC_LEN);
  return backend.sha256(PKH_TAG, publicKey);
}

/** The routing key a client computes from a public URI (pubKeyHash, cryptoKey, docName). */
export function sskRoutingKey(
  pubKeyHash: Uint8Array,
  cryptoKey: Uint8Array,
  docName: DocName,
  backend: CryptoBackend = nodeBackend,
): Uint8Array {
  checkLength('ssk public key hash', pubKeyHash, SSK_KEY_LEN);
  checkLength('ssk crypto key', cryptoKey, SSK_KEY_LEN);
  return backend.sha256(ROUTE_TAG, pubKeyHash, docTagOf(cryptoKey, docNameHash(docName, backend), backend));
}

/** A fresh signing key and crypto key from the system CSPRNG. */
export function sskKeypair(backend: CryptoBackend = nodeBackend): SskKeypair {
  const seed = new Uint8Array(randomBytes(ED25519_SEED_LEN));
  const publicKey = backend.ed25519.publicKey(seed);
  return { seed, publicKey, pubKeyHash: sskPubKeyHash(publicKey, backend), cryptoKey: new Uint8Array(randomBytes(SSK_KEY_LEN)) };
}

/** Sign and encrypt one version of a document. Deterministic for equal inputs. */
export function sskEncode(input: SskEncodeInput, backend: CryptoBackend = nodeBackend): { routingKey: Uint8Array; block: Uint8Array } {
  const { seed, cryptoKey, docName, version, payload } = input;
  checkLength('ssk seed', seed, ED25519_SEED_LEN);
  checkLength('ssk crypto key', cryptoKey, SSK_KEY_LEN);
  checkVersion('version', version);
  if (!(payload instanceof Uint8Array)) throw new TypeError('ssk: payload must be a Uint8Array');
  if (payload.length > SSK_MAX_PAYLOAD) throw new RangeError(`ssk: payload of ${payload.length} bytes is over ${SSK_MAX_PAYLOAD}`);
  const dn = docNameHash(docName, backend);
  const publicKey = backend.ed25519.publicKey(seed);
  const docTag = docTagOf(cryptoKey, dn, backend);
  const body = new Uint8Array(SSK_BODY_LEN);
  body[0] = payload.length >>> 8;
  body[1] = payload.length & 0xff;
  body.set(payload, 2);
  const versionBytes = u64be(version);
  const siv = backend.hmacSha256(backend.hmacSha256(cryptoKey, SIV_TAG, dn), versionBytes, body).subarray(0, SSK_SIV_LEN);
  const block = new Uint8Array(SSK_BLOCK_LEN);
  block.set(publicKey, 0);
  block.set(docTag, OFF_DOCTAG);
  block.set(versionBytes, OFF_VERSION);
  block.set(siv, OFF_SIV);
  block.set(backend.aesCtr(backend.hmacSha256(cryptoKey, ENC_TAG, dn), siv, body), OFF_BODY);
  block.set(backend.ed25519.sign(seed, concat(SIG_TAG, block.subarray(0, OFF_SIG))), OFF_SIG);
  const routingKey = backend.sha256(ROUTE_TAG, sskPubKeyHash(publicKey, backend), docTag);
  return { routingKey, block };
}

/** The version field of a block already verified (no checks beyond its length). */
export function sskVersion(block: Uint8Array): number {
  if (!(block instanceof Uint8Array) || block.length !== SSK_BLOCK_LEN) throw bad(`block must be ${SSK_BLOCK_LEN} bytes`);
  const v = new DataView(block.buffer, block.byteOffset + OFF_VERSION, 8).getBigUint64(0, false);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('version out of range');
  return Number(v);
}

/**
 * What a store does before keeping or serving a block: the block's public key and doc tag give the
 * routing key asked for, and the signature verifies. Needs no crypto key. Throws BAD_BLOCK or
 * BAD_SIGNATURE; never anything else on hostile bytes.
 */
export function sskVerify(routingKey: Uint8Array, block: Uint8Array, backend: CryptoBackend = nodeBackend): { version: number } {
  if (!(routingKey instanceof Uint8Array) || routingKey.length !== SSK_KEY_LEN) throw bad('routing key must be 32 bytes');
  const version = sskVersion(block);
  const publicKey = block.subarray(0, ED25519_PUBLIC_LEN);
  const expect = backend.sha256(ROUTE_TAG, backend.sha256(PKH_TAG, publicKey), block.subarray(OFF_DOCTAG, OFF_VERSION));
  if (!equalBytes(expect, routingKey)) throw bad('block does not match its routing key');
  const sig = block.subarray(OFF_SIG, OFF_SIG + ED25519_SIG_LEN);
  if (!backend.ed25519.verify(publicKey, concat(SIG_TAG, block.subarray(0, OFF_SIG)), sig)) {
    throw new CryptoError('BAD_SIGNATURE', 'ssk: signature does not verify');
  }
  return { version };
}

/** Verify, check the version policy, then decrypt with the public URI's crypto key and document name. */
export function sskDecode(input: SskDecodeInput, backend: CryptoBackend = nodeBackend): { version: number; payload: Uint8Array } {
  const { routingKey, cryptoKey, docName, block } = input;
  checkLength('ssk routing key', routingKey, SSK_KEY_LEN);
  checkLength('ssk crypto key', cryptoKey, SSK_KEY_LEN);
  if (input.version !== undefined) checkVersion('version', input.version);
  if (input.minVersion !== undefined) checkVersion('minVersion', input.minVersion);
  const dn = docNameHash(docName, backend);
  const { version } = sskVerify(routingKey, block, backend);
  if (!equalBytes(docTagOf(cryptoKey, dn, backend), block.subarray(OFF_DOCTAG, OFF_VERSION))) {
    throw bad('wrong crypto key or document name');
  }
  if (input.version !== undefined && version !== input.version) {
    throw new CryptoError('WRONG_VERSION', `ssk: block is version ${version}, asked for ${input.version}`);
  }
  if (input.minVersion !== undefined && version < input.minVersion) {
    throw new CryptoError('WRONG_VERSION', `ssk: block is version ${version}, older than ${input.minVersion}`);
  }
  const siv = block.subarray(OFF_SIV, OFF_BODY);
  const body = backend.aesCtr(backend.hmacSha256(cryptoKey, ENC_TAG, dn), siv, block.subarray(OFF_BODY, OFF_SIG));
  const mac = backend.hmacSha256(backend.hmacSha256(cryptoKey, SIV_TAG, dn), block.subarray(OFF_VERSION, OFF_SIV), body);
  if (!equalBytes(mac.subarray(0, SSK_SIV_LEN), siv)) throw bad('payload does not authenticate under the crypto key');
  const len = (body[0] << 8) | body[1];
  if (len > SSK_MAX_PAYLOAD) throw bad('payload length out of range');
  if (!equalBytes(body.subarray(2 + len), ZEROS.subarray(2 + len))) throw bad('padding is not zero');
  return { version, payload: body.slice(2, 2 + len) };
}

/**
 * The newer of two blocks verified under the same routing key: higher version wins; on a tie (a
 * publisher who signed two blocks for one version) the bytewise greater block, so every store
 * converges on the same one. Returns `a` when they are identical.
 */
export function sskNewer(a: Uint8Array, b: Uint8Array): Uint8Array {
  const va = sskVersion(a), vb = sskVersion(b);
  if (va !== vb) return va > vb ? a : b;
  return Buffer.compare(b, a) > 0 ? b : a;
}
