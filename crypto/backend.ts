// The primitive suite every Umbra construction is built from, behind one interface with three
// implementations: `nodeBackend` (the hot path: libsodium curves, OpenSSL symmetric crypto),
// `opensslBackend` (everything through node:crypto) and `nobleBackend` (pure JavaScript, @noble/*). Constructions take a backend argument defaulting to nodeBackend, so
// the benchmark can measure both side by side and the differential tests can check one against the
// other. Primitives that OpenSSL does not expose (POLYVAL, BLAKE3) live in their own files.
//
// Sizes: X25519 keys 32 bytes (RFC 7748), Ed25519 seeds/public keys 32 and signatures 64 (RFC 8032),
// ChaCha20-Poly1305 key 32, nonce 12, tag 16 (RFC 8439), AES-CTR IV 16 with a 128-bit big-endian
// counter (NIST SP 800-38A).

export interface X25519 {
  /** A fresh key pair from the system CSPRNG. */
  generate(): { secret: Uint8Array; publicKey: Uint8Array };
  /** Public key for a raw 32-byte secret scalar (clamped by X25519 itself). */
  publicKey(secret: Uint8Array): Uint8Array;
  /** Shared secret; throws CryptoError BAD_KEY for an all-zero result (low-order peer key). */
  dh(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array;
}

export interface Ed25519 {
  publicKey(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** False for any bad signature or malformed key; never throws on hostile input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export interface Aead {
  /** Returns ciphertext ‖ 16-byte tag; with `out` (room for both), written there and returned as a view of it. */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array;
  /**
   * Returns the plaintext, or throws CryptoError DECRYPT_FAILED. With `out` (at least the
   * plaintext's length) the plaintext is written there and a view of it returned: a caller that
   * reads it at once (a link's frames) reuses one buffer instead of a fresh one per message. On a
   * failure `out` may hold garbage, never a plaintext that is returned.
   */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array;
}

export interface CryptoBackend {
  readonly name: 'node' | 'openssl' | 'noble';
  sha256(...parts: Uint8Array[]): Uint8Array;
  sha3_256(...parts: Uint8Array[]): Uint8Array;
  shake256(outLen: number, ...parts: Uint8Array[]): Uint8Array;
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  readonly x25519: X25519;
  readonly ed25519: Ed25519;
  readonly chacha20poly1305: Aead;
  /**
   * ChaCha20 (RFC 8439 §2.4): `data` XOR the keystream of a 32-byte key and 12-byte nonce, the
   * 32-bit block counter starting at `counter`. Written into `out` (which may be `data` itself)
   * when given, else into a new array. Counter 1 gives the keystream ChaCha20-Poly1305 encrypts with.
   */
  chacha20Xor(key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array, out?: Uint8Array): Uint8Array;
  /** AES-CTR (key of 16 or 32 bytes), 128-bit big-endian counter starting at `iv`. */
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES on whole 16-byte blocks, each independently (ECB), encrypt or decrypt. */
  aesEcb(key: Uint8Array, data: Uint8Array, decrypt?: boolean): Uint8Array;
}
