// CryptoBackend over @noble/* (pure JavaScript): the second implementation, used by the
// differential tests and as the baseline column of the benchmark. See backend.ts for the contract.

import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ctr, ecb } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import type { CryptoBackend } from './backend.ts';
import { checkLength, placeInto } from './bytes.ts';
import { CryptoError } from './errors.ts';

function hashParts(h: { update(b: Uint8Array): unknown; digest(): Uint8Array }, parts: Uint8Array[]): Uint8Array {
  for (const p of parts) h.update(p);
  return h.digest();
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  sha256: (...parts) => hashParts(sha256.create(), parts),
  sha3_256: (...parts) => hashParts(sha3_256.create(), parts),
  shake256: (outLen, ...parts) => hashParts(shake256.create({ dkLen: outLen }), parts),
  hmacSha256: (key, ...parts) => hashParts(hmac.create(sha256, key), parts),
  x25519: {
    generate() {
      const secret = x25519.utils.randomSecretKey();
      return { secret, publicKey: x25519.getPublicKey(secret) };
    },
    publicKey(secret) {
      checkLength('x25519 secret', secret, 32);
      return x25519.getPublicKey(secret);
    },
    dh(secret, peerPublic) {
      checkLength('x25519 secret', secret, 32);
      checkLength('x25519 public', peerPublic, 32);
      try {
        return x25519.getSharedSecret(secret, peerPublic);
      } catch {
        throw new CryptoError('BAD_KEY', 'x25519: low-order public key');
      }
    },
  },
  ed25519: {
    publicKey(seed) {
      checkLength('ed25519 seed', seed, 32);
      return ed25519.getPublicKey(seed);
    },
    sign(seed, message) {
      checkLength('ed25519 seed', seed, 32);
      return ed25519.sign(message, seed);
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      try {
        // zip215: false gives RFC 8032 / OpenSSL semantics (canonical encodings only).
        return ed25519.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },
  },
  chacha20Xor(key, nonce, counter, data, out) {
    checkLength('chacha key', key, 32);
    checkLength('chacha nonce', nonce, 12);
    if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) throw new RangeError('chacha20: counter must be a u32');
    return placeInto(chacha20(key, nonce, data, undefined, counter), out);
  },
  chacha20poly1305: {
    seal(key, nonce, ad, plaintext, into) {
      checkLength('chacha key', key, 32);
      checkLength('chacha nonce', nonce, 12);
      return placeInto(chacha20poly1305(key, nonce, ad).encrypt(plaintext), into);
    },
    open(key, nonce, ad, sealed, into) {
      checkLength('chacha key', key, 32);
      checkLength('chacha nonce', nonce, 12);
      let plain: Uint8Array;
      try {
        plain = chacha20poly1305(key, nonce, ad).decrypt(sealed);
      } catch {
        throw new CryptoError('DECRYPT_FAILED', 'aead: authentication failed');
      }
      return placeInto(plain, into);
    },
  },
  aesCtr(key, iv, data) {
    checkLength('aes-ctr iv', iv, 16);
    if (key.length !== 16 && key.length !== 32) throw new RangeError('aes-ctr: key must be 16 or 32 bytes');
    return ctr(key, iv).encrypt(data);
  },
  aesEcb(key, data, decrypt = false) {
    if (data.length % 16 !== 0) throw new RangeError('aes-ecb: data must be whole blocks');
    if (key.length !== 16 && key.length !== 32) throw new RangeError('aes-ecb: key must be 16 or 32 bytes');
    const c = ecb(key, { disablePadding: true });
    return decrypt ? c.decrypt(data) : c.encrypt(data);
  },
};

