// CryptoBackend over node:crypto (OpenSSL), and the default native backend that combines it with
// libsodium's curves. See backend.ts for the contract.
//
// Raw X25519/Ed25519 keys enter OpenSSL as JWK, not DER: measured on this machine, OpenSSL 3's DER
// decoder costs ~350 us per private key and ~80 us per public key, JWK ~39 us and ~7 us. Secret
// keys are cached as KeyObjects in a WeakMap keyed by the Uint8Array that holds them, so a
// long-lived identity or onion key is imported once, and a key made by generate() never is.

import * as nc from 'node:crypto';
import type { CryptoBackend } from './backend.ts';
import { checkLength, openTarget, placeInto } from './bytes.ts';
import { checkChaCha20Xor, sodiumChaCha20Poly1305, sodiumChaCha20Xor, sodiumEd25519, sodiumHmacSha256, sodiumSha256, sodiumX25519 } from './sodium.ts';
import { CryptoError } from './errors.ts';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const fromB64u = (s: string | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64url'));
// OpenSSL derives the public half from `d` itself and ignores this placeholder `x`.
const PLACEHOLDER_X = b64u(new Uint8Array(32));

interface Cached {
  bytes: Uint8Array; // a private copy: a cache hit requires the array to still hold these bytes
  key: nc.KeyObject;
}
const privateCache = new WeakMap<Uint8Array, Cached>();
// Public keys too: a handshake that uses one peer key twice (ntor's server: X with y and with b)
// imports it once when the caller passes the same array.
const publicCache = new WeakMap<Uint8Array, Cached>();

function lookup(cache: WeakMap<Uint8Array, Cached>, raw: Uint8Array, type: string): nc.KeyObject | undefined {
  const c = cache.get(raw);
  if (c === undefined || c.key.asymmetricKeyType !== type || raw.length !== 32) return undefined;
  return nc.timingSafeEqual(c.bytes, raw) ? c.key : undefined;
}

function remember(cache: WeakMap<Uint8Array, Cached>, raw: Uint8Array, key: nc.KeyObject): nc.KeyObject {
  cache.set(raw, { bytes: raw.slice(), key });
  return key;
}

function privateKey(crv: 'X25519' | 'Ed25519', secret: Uint8Array): nc.KeyObject {
  const hit = lookup(privateCache, secret, crv.toLowerCase());
  if (hit) return hit;
  checkLength(`${crv} secret`, secret, 32);
  const k = nc.createPrivateKey({ key: { kty: 'OKP', crv, d: b64u(secret), x: PLACEHOLDER_X }, format: 'jwk' });
  return remember(privateCache, secret, k);
}

function publicKeyObject(crv: 'X25519' | 'Ed25519', pub: Uint8Array): nc.KeyObject {
  const hit = lookup(publicCache, pub, crv.toLowerCase());
  if (hit) return hit;
  checkLength(`${crv} public key`, pub, 32);
  const k = nc.createPublicKey({ key: { kty: 'OKP', crv, x: b64u(pub) }, format: 'jwk' });
  return remember(publicCache, pub, k);
}

function rawPublic(k: nc.KeyObject): Uint8Array {
  return fromB64u(nc.createPublicKey(k).export({ format: 'jwk' }).x);
}

// One-shot hashing (node:crypto hash(), Node >= 20.12; createHash where it is missing): no Hash
// object per call. Measured here on 32 KiB, 18.9 us instead of 19.9 us with createHash/update/digest.
const hashOnce = (nc as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

function digest(alg: string, parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && hashOnce) return u8(hashOnce(alg, parts[0] as Uint8Array, 'buffer'));
  const h = nc.createHash(alg);
  for (const p of parts) h.update(p);
  return u8(h.digest());
}

const ZERO32 = new Uint8Array(32);

export const opensslBackend: CryptoBackend = {
  name: 'openssl',
  sha256: (...parts) => digest('sha256', parts),
  sha3_256: (...parts) => digest('sha3-256', parts),
  shake256(outLen, ...parts) {
    const h = nc.createHash('shake256', { outputLength: outLen });
    for (const p of parts) h.update(p);
    return u8(h.digest());
  },
  hmacSha256(key, ...parts) {
    const h = nc.createHmac('sha256', key);
    for (const p of parts) h.update(p);
    return u8(h.digest());
  },
  x25519: {
    generate() {
      // Not generateKeyPairSync: on Node 20, exporting a freshly generated key as JWK can deadlock
      // when GC collects the keygen job mid-export (seen here: ExportJWKEdKey → GC → ~KeyGenJob →
      // uv_mutex_lock), and it is slower. Random bytes imported as JWK are born cached.
      const secret = new Uint8Array(nc.randomBytes(32));
      return { secret, publicKey: rawPublic(privateKey('X25519', secret)) };
    },
    publicKey: (secret) => rawPublic(privateKey('X25519', secret)),
    dh(secret, peerPublic) {
      const priv = privateKey('X25519', secret);
      const pub = publicKeyObject('X25519', peerPublic);
      let out: Buffer;
      try {
        out = nc.diffieHellman({ privateKey: priv, publicKey: pub });
      } catch {
        // OpenSSL refuses an all-zero shared secret (low-order point).
        throw new CryptoError('BAD_KEY', 'x25519: low-order public key');
      }
      if (nc.timingSafeEqual(out, ZERO32)) throw new CryptoError('BAD_KEY', 'x25519: low-order public key');
      return u8(out);
    },
  },
  ed25519: {
    publicKey: (seed) => rawPublic(privateKey('Ed25519', seed)),
    sign: (seed, message) => u8(nc.sign(null, message, privateKey('Ed25519', seed))),
    verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      try {
        return nc.verify(null, message, publicKeyObject('Ed25519', publicKey), signature);
      } catch {
        return false;
      }
    },
  },
  chacha20poly1305: {
    seal(key, nonce, ad, plaintext, into) {
      checkLength('chacha key', key, 32);
      checkLength('chacha nonce', nonce, 12);
      const c = nc.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      c.setAAD(ad, { plaintextLength: plaintext.length });
      const out = openTarget(plaintext.length + 16, into);
      const body = c.update(plaintext);
      out.set(body, 0);
      c.final();
      out.set(c.getAuthTag(), plaintext.length);
      return out;
    },
    open(key, nonce, ad, sealed, into) {
      checkLength('chacha key', key, 32);
      checkLength('chacha nonce', nonce, 12);
      if (sealed.length < 16) throw new CryptoError('DECRYPT_FAILED', 'aead: message shorter than its tag');
      const ctLen = sealed.length - 16;
      const d = nc.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      d.setAAD(ad, { plaintextLength: ctLen });
      d.setAuthTag(sealed.subarray(ctLen));
      const body = d.update(sealed.subarray(0, ctLen));
      try {
        d.final();
      } catch {
        throw new CryptoError('DECRYPT_FAILED', 'aead: authentication failed');
      }
      return placeInto(u8(body), into);
    },
  },
  chacha20Xor(key, nonce, counter, data, out) {
    checkChaCha20Xor(key, nonce, counter);
    const iv = new Uint8Array(16); // OpenSSL's chacha20 IV: the counter (u32 little-endian) ‖ the nonce
    new DataView(iv.buffer).setUint32(0, counter, true);
    iv.set(nonce, 4);
    const x = nc.createCipheriv('chacha20', key, iv).update(data);
    const target = openTarget(data.length, out);
    target.set(x);
    return target;
  },
  aesCtr(key, iv, data) {
    checkLength('aes-ctr iv', iv, 16);
    const alg = key.length === 16 ? 'aes-128-ctr' : key.length === 32 ? 'aes-256-ctr' : '';
    if (!alg) throw new RangeError('aes-ctr: key must be 16 or 32 bytes');
    return u8(nc.createCipheriv(alg, key, iv).update(data));
  },
  aesEcb(key, data, decrypt = false) {
    if (data.length % 16 !== 0) throw new RangeError('aes-ecb: data must be whole blocks');
    const alg = key.length === 16 ? 'aes-128-ecb' : key.length === 32 ? 'aes-256-ecb' : '';
    if (!alg) throw new RangeError('aes-ecb: key must be 16 or 32 bytes');
    const c = decrypt ? nc.createDecipheriv(alg, key, null) : nc.createCipheriv(alg, key, null);
    c.setAutoPadding(false);
    return u8(c.update(data));
  },
};

// Below this many bytes in all, SHA-256 and HMAC go to libsodium (no per-call object); above it,
// to OpenSSL's SHA-NI code. Measured here: the two cross near 512 bytes (256 B: 1.2 vs 1.8 us; 1 KiB: 3.8 vs 1.7 us).
const SMALL_HASH = 512;
const total = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + p.length, 0);

/**
 * The default, native backend: libsodium for the curves, ChaCha20-Poly1305 and small SHA-256/HMAC
 * (see sodium.ts for the measurements that chose it); OpenSSL for large SHA-256, SHA-3/SHAKE and
 * AES. `opensslBackend` keeps an all-OpenSSL suite as another implementation for the differential
 * tests and the benchmark.
 */
export const nodeBackend: CryptoBackend = {
  ...opensslBackend,
  name: 'node',
  sha256: (...parts) => (total(parts) <= SMALL_HASH ? sodiumSha256(parts) : opensslBackend.sha256(...parts)),
  hmacSha256: (key, ...parts) =>
    total(parts) <= SMALL_HASH ? sodiumHmacSha256(key, parts) : opensslBackend.hmacSha256(key, ...parts),
  x25519: sodiumX25519,
  ed25519: sodiumEd25519,
  chacha20poly1305: sodiumChaCha20Poly1305,
  chacha20Xor: sodiumChaCha20Xor,
};
