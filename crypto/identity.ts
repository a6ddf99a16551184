// Node identities and their key file (pure; the file I/O lives in node/keyfile.ts).
//
// An Umbra node has two long-term keys: an Ed25519 identity key (signs descriptors; RFC 8032) and
// an X25519 onion key (ntor v3 handshakes, Noise link static key; RFC 7748). Its node id is
//   nodeId = SHA-256(NODE_ID_LABEL ‖ 0x00 ‖ identityPublic)
// which is also the node's location in the 256-bit key space (DESIGN.md "Overlay routing").
//
// Key file, kind 1 (node identity), exactly KEYFILE_NODE_IDENTITY_LEN = 170 bytes:
//   off len
//     0   8  magic "UMBRAKEY"
//     8   1  format version (1)
//     9   1  kind (1 = node identity)
//    10  32  Ed25519 seed
//    42  32  Ed25519 public key
//    74  32  X25519 secret
//   106  32  X25519 public key
//   138  32  checksum = SHA-256(KEYFILE_CHECKSUM_LABEL ‖ 0x00 ‖ bytes[0..138))
// The decoder checks, in order: header present, magic, version, kind, exact length, checksum, and
// that each public key is the one its secret derives. Every failure is CryptoError BAD_KEY_FILE.

import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength, equalBytes, utf8 } from './bytes.ts';
import {
  ED25519_PUBLIC_LEN,
  ED25519_SEED_LEN,
  KEYFILE_CHECKSUM_LABEL,
  KEYFILE_HEADER_LEN,
  KEYFILE_KIND_NODE_IDENTITY,
  KEYFILE_MAGIC,
  KEYFILE_NODE_IDENTITY_LEN,
  KEYFILE_VERSION,
  NODE_ID_LABEL,
  X25519_KEY_LEN,
} from './constants.ts';
import { CryptoError } from './errors.ts';

export interface NodeIdentity {
  readonly identitySeed: Uint8Array; // Ed25519 seed (secret)
  readonly identityPublic: Uint8Array; // Ed25519 public key
  readonly onionSecret: Uint8Array; // X25519 secret (secret)
  readonly onionPublic: Uint8Array; // X25519 public key
  readonly nodeId: Uint8Array; // location in the key space
}

const label = (s: string): Uint8Array => utf8(s + '\0');
const NODE_ID_TAG = label(NODE_ID_LABEL);
const CHECKSUM_TAG = label(KEYFILE_CHECKSUM_LABEL);
const MAGIC = utf8(KEYFILE_MAGIC);
const CHECKSUM_OFF = KEYFILE_NODE_IDENTITY_LEN - 32;
const KIND_NAMES: Record<number, string> = { [KEYFILE_KIND_NODE_IDENTITY]: 'node identity' };

/** The node id (key-space location) of an Ed25519 identity public key. */
export function nodeIdOf(identityPublic: Uint8Array, backend: CryptoBackend = nodeBackend): Uint8Array {
  checkLength('identity public key', identityPublic, ED25519_PUBLIC_LEN);
  return backend.sha256(NODE_ID_TAG, identityPublic);
}

/** An identity from its two secrets (public keys and node id are derived). */
export function identityFromSecrets(
  identitySeed: Uint8Array,
  onionSecret: Uint8Array,
  backend: CryptoBackend = nodeBackend,
): NodeIdentity {
  checkLength('identity seed', identitySeed, ED25519_SEED_LEN);
  checkLength('onion secret', onionSecret, X25519_KEY_LEN);
  const identityPublic = backend.ed25519.publicKey(identitySeed);
  const onionPublic = backend.x25519.publicKey(onionSecret);
  return { identitySeed, identityPublic, onionSecret, onionPublic, nodeId: nodeIdOf(identityPublic, backend) };
}

/** A fresh identity from the system CSPRNG. */
export function generateIdentity(backend: CryptoBackend = nodeBackend): NodeIdentity {
  const identitySeed = new Uint8Array(randomBytes(ED25519_SEED_LEN));
  const onion = backend.x25519.generate();
  const identityPublic = backend.ed25519.publicKey(identitySeed);
  return {
    identitySeed,
    identityPublic,
    onionSecret: onion.secret,
    onionPublic: onion.publicKey,
    nodeId: nodeIdOf(identityPublic, backend),
  };
}

/** The key file bytes of an identity (layout above). The result holds secrets: wipe it after writing. */
export function encodeKeyFile(id: NodeIdentity, backend: CryptoBackend = nodeBackend): Uint8Array {
  checkLength('identity seed', id.identitySeed, ED25519_SEED_LEN);
  checkLength('identity public key', id.identityPublic, ED25519_PUBLIC_LEN);
  checkLength('onion secret', id.onionSecret, X25519_KEY_LEN);
  checkLength('onion public key', id.onionPublic, X25519_KEY_LEN);
  const out = new Uint8Array(KEYFILE_NODE_IDENTITY_LEN);
  out.set(MAGIC, 0);
  out[8] = KEYFILE_VERSION;
  out[9] = KEYFILE_KIND_NODE_IDENTITY;
  let o = KEYFILE_HEADER_LEN;
  for (const k of [id.identitySeed, id.identityPublic, id.onionSecret, id.onionPublic]) {
    out.set(k, o);
    o += 32;
  }
  out.set(backend.sha256(CHECKSUM_TAG, out.subarray(0, CHECKSUM_OFF)), CHECKSUM_OFF);
  return out;
}

function bad(message: string): CryptoError {
  return new CryptoError('BAD_KEY_FILE', `key file: ${message}`);
}

/** Parse and fully validate a key file; throws CryptoError BAD_KEY_FILE on any defect. */
export function decodeKeyFile(bytes: Uint8Array, backend: CryptoBackend = nodeBackend): NodeIdentity {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeKeyFile: expected Uint8Array');
  if (bytes.length < KEYFILE_HEADER_LEN) throw bad(`truncated (${bytes.length} bytes)`);
  if (!equalBytes(bytes.subarray(0, 8), MAGIC)) throw bad('not an Umbra key file (bad magic)');
  if (bytes[8] !== KEYFILE_VERSION) throw bad(`unsupported format version ${bytes[8]}`);
  if (bytes[9] !== KEYFILE_KIND_NODE_IDENTITY) {
    const name = KIND_NAMES[bytes[9]] ?? `unknown kind ${bytes[9]}`;
    throw bad(`holds a ${name} key, not a node identity`);
  }
  if (bytes.length < KEYFILE_NODE_IDENTITY_LEN) throw bad(`truncated (${bytes.length} of ${KEYFILE_NODE_IDENTITY_LEN} bytes)`);
  if (bytes.length > KEYFILE_NODE_IDENTITY_LEN) throw bad(`${bytes.length - KEYFILE_NODE_IDENTITY_LEN} trailing bytes`);
  const sum = backend.sha256(CHECKSUM_TAG, bytes.subarray(0, CHECKSUM_OFF));
  if (!equalBytes(sum, bytes.subarray(CHECKSUM_OFF))) throw bad('checksum mismatch (the file is corrupt)');
  const field = (i: number) => bytes.slice(KEYFILE_HEADER_LEN + 32 * i, KEYFILE_HEADER_LEN + 32 * (i + 1));
  const id = identityFromSecrets(field(0), field(2), backend);
  if (!equalBytes(id.identityPublic, field(1))) throw bad('Ed25519 public key does not match its seed');
  if (!equalBytes(id.onionPublic, field(3))) throw bad('X25519 public key does not match its secret');
  return id;
}
