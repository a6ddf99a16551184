// The link (Noise) static key of a node, bound to its Ed25519 identity by the birational map
// between edwards25519 and curve25519 (RFC 7748 §4.1; the same conversion as libsodium's
// crypto_sign_ed25519_{pk,sk}_to_curve25519). A dialer that knows a peer's identity key from its
// contact string or signed descriptor therefore knows the X25519 static key that Noise XK needs,
// and a successful handshake proves the peer holds that identity's secret. No extra key to publish.

import { ed25519 } from '@noble/curves/ed25519.js';
import { checkLength } from './bytes.ts';
import { CryptoError } from './errors.ts';

/** X25519 static key pair for the link layer, from an Ed25519 identity seed. */
export function linkKeyFromIdentity(identitySeed: Uint8Array): { secret: Uint8Array; publicKey: Uint8Array } {
  checkLength('identity seed', identitySeed, 32);
  const secret = ed25519.utils.toMontgomerySecret(identitySeed);
  return { secret, publicKey: ed25519.utils.toMontgomery(ed25519.getPublicKey(identitySeed)) };
}

/** X25519 static public key of a peer, from its Ed25519 identity public key (hostile input). */
export function linkPublicFromIdentity(identityKey: Uint8Array): Uint8Array {
  if (!(identityKey instanceof Uint8Array) || identityKey.length !== 32) {
    throw new CryptoError('BAD_KEY', 'identity key must be 32 bytes');
  }
  let pub: Uint8Array;
  try {
    pub = ed25519.utils.toMontgomery(identityKey);
  } catch {
    throw new CryptoError('BAD_KEY', 'identity key is not a valid edwards25519 point');
  }
  if (pub.every((b) => b === 0)) throw new CryptoError('BAD_KEY', 'identity key maps to a low-order point');
  return pub;
}
