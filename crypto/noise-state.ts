// Noise CipherState and SymmetricState (Noise Protocol Framework rev 34, §5.1 and §5.2), with the
// HKDF of §4.3 and the REKEY of §4.2/§11.3, for the one suite Umbra uses: 25519, ChaChaPoly, SHA256.
// No I/O, no randomness: the handshake (noise.ts) drives these, and its Transport wraps a pair of
// CipherStates.
//
// ChaChaPoly nonce (§12.3): 4 zero bytes ‖ the 64-bit counter n, little-endian. The counter is held
// as two uint32 halves written into one 12-byte buffer, so no allocation per message. n = 2^64-1 is
// reserved (§5.1): an EncryptWithAd/DecryptWithAd that would use it throws NONCE_EXHAUSTED.
// DecryptWithAd follows the spec: a failed tag does not advance n. (The link transport layers its
// own "any failure is fatal" rule on top; see noise.ts.)

import type { CryptoBackend } from './backend.ts';
import { checkLength, wipe } from './bytes.ts';
import { NOISE_HASHLEN } from './constants.ts';
import { CryptoError } from './errors.ts';

const EMPTY = new Uint8Array(0);
const ZERO32 = new Uint8Array(32);
const BYTE1 = new Uint8Array([1]);
const BYTE2 = new Uint8Array([2]);
const BYTE3 = new Uint8Array([3]);
/** The reserved nonce 2^64-1, used only by REKEY (§4.2). */
const MAX_NONCE = new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const U32 = 0x1_0000_0000;
const MAX_U64 = (1n << 64n) - 1n;

/** HKDF(chaining_key, input_key_material, num_outputs) of §4.3, with HMAC-SHA256. */
export function hkdf(be: CryptoBackend, ck: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = be.hmacSha256(ck, ikm);
  const o1 = be.hmacSha256(temp, BYTE1);
  const o2 = be.hmacSha256(temp, o1, BYTE2);
  const out = [o1, o2];
  if (outputs === 3) out.push(be.hmacSha256(temp, o2, BYTE3));
  wipe(temp);
  return out;
}

/** §5.1: a key k (or none) and a 64-bit nonce counter n. */
export class CipherState {
  readonly #be: CryptoBackend;
  #k: Uint8Array | null = null;
  #wiped = false;
  #lo = 0; // n mod 2^32
  #hi = 0; // n div 2^32
  readonly #nonce = new Uint8Array(12);
  readonly #view = new DataView(this.#nonce.buffer);

  constructor(backend: CryptoBackend, key?: Uint8Array) {
    this.#be = backend;
    if (key !== undefined) this.initializeKey(key);
  }

  hasKey(): boolean {
    return this.#k !== null;
  }

  /** InitializeKey(key): takes ownership of `key` (wiped on rekey or wipe()); n = 0. */
  initializeKey(key: Uint8Array): void {
    if (this.#wiped) throw new CryptoError('BAD_STATE', 'noise: cipher state wiped');
    checkLength('noise cipher key', key, 32);
    if (this.#k !== null && this.#k !== key) wipe(this.#k);
    this.#k = key;
    this.#lo = this.#hi = 0;
  }

  /** The next nonce value n. */
  get nonce(): bigint {
    return BigInt(this.#hi) * BigInt(U32) + BigInt(this.#lo);
  }

  /** SetNonce(n) of §5.1. Tests only (to reach 2^64-1 without 2^64 messages); never on a live link. */
  dangerouslySetNonce(n: bigint): void {
    if (n < 0n || n > MAX_U64) throw new RangeError('noise nonce: out of range');
    this.#lo = Number(n & 0xffffffffn);
    this.#hi = Number(n >> 32n);
  }

  /** ENCRYPT(k, n++, ad, plaintext), or the plaintext itself while there is no key. With `into` (and a key), the output is a view of it. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
    const k = this.#k;
    if (k === null) return this.#passThrough(plaintext);
    const out = this.#be.chacha20poly1305.seal(k, this.#currentNonce(), ad, plaintext, into);
    this.#advance();
    return out;
  }

  /** DECRYPT(k, n++, ad, ciphertext); throws DECRYPT_FAILED (n unchanged) on a bad tag. With `into`, the plaintext is a view of it. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array, into?: Uint8Array): Uint8Array {
    const k = this.#k;
    if (k === null) return this.#passThrough(ciphertext);
    const out = this.#be.chacha20poly1305.open(k, this.#currentNonce(), ad, ciphertext, into);
    this.#advance();
    return out;
  }

  /** Rekey() (§5.1, §4.2): k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes); n kept. */
  rekey(): void {
    const k = this.#k;
    if (k === null) throw new CryptoError('BAD_STATE', this.#wiped ? 'noise: cipher state wiped' : 'noise: rekey without a key');
    this.#k = this.#be.chacha20poly1305.seal(k, MAX_NONCE, EMPTY, ZERO32).subarray(0, 32);
    wipe(k);
  }

  /** Erase the key for good: every later call throws BAD_STATE (never a plaintext pass-through). */
  wipe(): void {
    if (this.#k !== null) wipe(this.#k);
    this.#k = null;
    this.#wiped = true;
  }

  /** With no key, data passes through (§5.1), unless the key was wiped. */
  #passThrough(data: Uint8Array): Uint8Array {
    if (this.#wiped) throw new CryptoError('BAD_STATE', 'noise: cipher state wiped');
    return data;
  }

  #currentNonce(): Uint8Array {
    if (this.#lo === 0xffffffff && this.#hi === 0xffffffff)
      throw new CryptoError('NONCE_EXHAUSTED', 'noise: nonce 2^64-1 reached; the session must end');
    this.#view.setUint32(4, this.#lo, true);
    this.#view.setUint32(8, this.#hi, true);
    return this.#nonce;
  }

  #advance(): void {
    if (this.#lo === 0xffffffff) {
      this.#lo = 0;
      this.#hi++;
    } else {
      this.#lo++;
    }
  }
}

/** §5.2: the chaining key ck, the handshake hash h, and the CipherState of the handshake. */
export class SymmetricState {
  readonly #be: CryptoBackend;
  readonly cs: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: Uint8Array, backend: CryptoBackend) {
    this.#be = backend;
    let h: Uint8Array;
    if (protocolName.length <= NOISE_HASHLEN) {
      h = new Uint8Array(NOISE_HASHLEN);
      h.set(protocolName);
    } else {
      h = backend.sha256(protocolName);
    }
    this.#h = h;
    this.#ck = h.slice();
    this.cs = new CipherState(backend);
  }

  /** The handshake hash h (§5.2 GetHandshakeHash). */
  get h(): Uint8Array {
    return this.#h;
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf(this.#be, this.#ck, ikm, 2);
    wipe(this.#ck);
    this.#ck = ck;
    this.cs.initializeKey(k);
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.#be.sha256(this.#h, data);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ct = this.cs.encryptWithAd(this.#h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const pt = this.cs.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return pt;
  }

  /** Split(): the initiator-to-responder and responder-to-initiator CipherStates; wipes ck and k. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.#be, this.#ck, EMPTY, 2);
    this.wipe();
    return [new CipherState(this.#be, k1), new CipherState(this.#be, k2)];
  }

  /** Erase the secrets (ck and the handshake key); h is public and kept. */
  wipe(): void {
    wipe(this.#ck);
    this.cs.wipe();
  }
}
