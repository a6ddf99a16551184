// Counter Galois Onion (CGO), Tor proposal 359 (eprint 2025/583): the building blocks of one layer.
// Symbols follow the proposal and arti's tor-proto `crypto/cell/cgo.rs`; all keys are AES-128.
//
//   PRF((K,B), T, t)  = CTR(K, IV) with IV = POLYVAL(B, T), low six bits of IV's last byte cleared,
//                       started t·31 blocks in (the counter is 128-bit big-endian; with the low six
//                       bits clear it never carries out of the last byte). t=0 gives the 493-byte
//                       body keystream, t=1 the 80 bytes of a key update.
//   ENC_ET((KB,KU), T, M) = m ^ AES(KB, M ^ m) with m = POLYVAL(KU, T zero-padded to 512 bytes)
//   ENC_UIV((J,S), H, (X_L,X_R)): Y_L = ENC_ET(J, H ‖ X_R, X_L); Y_R = X_R ^ PRF(S, Y_L, 0)
//   DEC_UIV((J,S), H, (Y_L,Y_R)): X_R = Y_R ^ PRF(S, Y_L, 0);   X_L = DEC_ET(J, H ‖ X_R, Y_L)
//   UPDATE_UIV((J,S), N): (J' ‖ S' ‖ N') = PRF(S, N, 1)
// with H = T' ‖ AD (the previous tag and the one-byte channel command), J = KB ‖ KU, S = K ‖ B.
// Relays only ever ENC_UIV and clients only ever DEC_UIV (so a relay's ET needs AES encryption and
// a client's AES decryption; both are made lazily per key).
//
// Performance: a cell costs one POLYVAL over 32 blocks (the ET tweak), one over 1 block (the IV),
// one AES block and one 31-block AES call: ~5 us on this machine, about 40% POLYVAL and 45% the two
// node:crypto calls. A key update adds 5 AES blocks, two POLYVAL keys and two new OpenSSL cipher
// objects (~2 us each, plus their garbage collection): ~10 us. All scratch is preallocated per Uiv;
// the cell is processed in place. Word views assume a little-endian host (checked on construction).

import type { AesBlocks, AesBlocksFactory } from './aes-blocks.ts';
import { aesBlocksFor } from './aes-blocks.ts';
import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength } from './bytes.ts';
import {
  CGO_AES_KEY_LEN, CGO_BINDING_LEN, CGO_BLOCK_LEN, CGO_C_LEN, CGO_ET_KEY_LEN, CGO_ET_TWEAK_LEN,
  CGO_KEY_MATERIAL_LEN, CGO_PRF_KEY_LEN, CGO_PRF_N1_LEN, CGO_PRF_N1_OFFSET_BLOCKS, CGO_SEED_LEN,
  CGO_UIV_KEY_LEN, RELAY_BODY_LEN,
} from './constants.ts';
import { HOST_LITTLE_ENDIAN, Polyval } from './polyval.ts';

// Module-local copies: hot paths read plain consts, not imported bindings (which some loaders,
// tsx among them, turn into getter calls).
const BLOCK = CGO_BLOCK_LEN;
const BODY = RELAY_BODY_LEN;
const AES_KEY = CGO_AES_KEY_LEN;
const N1_OFFSET = CGO_PRF_N1_OFFSET_BLOCKS;
const N1_LEN = CGO_PRF_N1_LEN;
const UIV_KEY = CGO_UIV_KEY_LEN;
const ET_KEY = CGO_ET_KEY_LEN;
const N0_BLOCKS = Math.ceil(CGO_C_LEN / CGO_BLOCK_LEN); // 31
const N1_BLOCKS = CGO_PRF_N1_LEN / BLOCK; // 5
const TWEAK_BLOCKS = 32; // the 510-byte ET tweak zero-padded to 512 bytes

function requireLittleEndian(): void {
  if (!HOST_LITTLE_ENDIAN) throw new Error('cgo: this implementation needs a little-endian host');
}

function checkAd(ad: number): void {
  if (!Number.isInteger(ad) || ad < 0 || ad > 255) throw new RangeError('cgo: AD must be one byte');
}

/** The PRF with key S = K ‖ B. */
export class CgoPrf {
  private aes: AesBlocks;
  private readonly hash: Polyval;
  private readonly iv = new Int32Array(4);
  private readonly ctr = new Uint8Array(N0_BLOCKS * BLOCK);
  private readonly ctr32 = new Int32Array(this.ctr.buffer);
  private readonly ctrN1 = this.ctr.subarray(0, CGO_PRF_N1_LEN);
  private readonly makeAes: AesBlocksFactory;

  constructor(key: Uint8Array, makeAes: AesBlocksFactory, keyOffset = 0) {
    requireLittleEndian();
    this.makeAes = makeAes;
    this.hash = new Polyval(key, keyOffset + AES_KEY);
    this.aes = makeAes(key.subarray(keyOffset, keyOffset + AES_KEY), false);
  }

  /** Re-key from key[keyOffset..keyOffset+32] (K ‖ B). */
  setKey(key: Uint8Array, keyOffset = 0): void {
    this.hash.setKey(key, keyOffset + AES_KEY);
    this.aes = this.makeAes(key.subarray(keyOffset, keyOffset + AES_KEY), false);
  }

  /**
   * The PRF output for the 16-byte tweak at tweak[off..]: t=0 returns 496 bytes whose first 493 are
   * PRF_n0; t=1 returns the 80 bytes of PRF_n1. The result is a fresh buffer.
   */
  stream(tweak: Uint8Array, off: number, t: 0 | 1): Uint8Array {
    const iv = this.iv;
    this.hash.hashBlock(iv, tweak, off);
    // Byte 15 is the top byte of word 3: clear its low six bits, and start at block 31 for t=1.
    const top = (iv[3] & 0xc0ffffff) | (t === 1 ? N1_OFFSET << 24 : 0);
    const blocks = t === 1 ? N1_BLOCKS : N0_BLOCKS;
    const c = this.ctr32;
    for (let b = 0, w = 0; b < blocks; b++, w += 4) {
      c[w] = iv[0];
      c[w + 1] = iv[1];
      c[w + 2] = iv[2];
      c[w + 3] = top + (b << 24); // no carry: the low six bits of byte 15 stay below 64
    }
    return this.aes.run(t === 1 ? this.ctrN1 : this.ctr);
  }
}

/** The tweakable block cipher ET with key J = KB ‖ KU (LRW2 with POLYVAL as the tweak hash). */
export class CgoEt {
  private readonly hash: Polyval;
  private readonly kb = new Uint8Array(AES_KEY);
  private enc: AesBlocks | null = null;
  private dec: AesBlocks | null = null;
  private readonly mask = new Int32Array(4);
  private readonly blk = new Uint8Array(BLOCK);
  private readonly blk32 = new Int32Array(this.blk.buffer);
  private readonly makeAes: AesBlocksFactory;

  constructor(key: Uint8Array, makeAes: AesBlocksFactory, keyOffset = 0) {
    requireLittleEndian();
    this.makeAes = makeAes;
    this.hash = new Polyval(key, keyOffset + AES_KEY);
    this.kb.set(key.subarray(keyOffset, keyOffset + AES_KEY));
  }

  /** Re-key from key[keyOffset..keyOffset+32] (KB ‖ KU). AES schedules are made on first use. */
  setKey(key: Uint8Array, keyOffset = 0): void {
    this.hash.setKey(key, keyOffset + AES_KEY);
    this.kb.set(key.subarray(keyOffset, keyOffset + AES_KEY));
    this.enc = null;
    this.dec = null;
  }

  /**
   * block[off..off+16] := ENC_ET (or DEC_ET) under the tweak held in `tweak`: 128 little-endian
   * words, the 510 tweak bytes followed by two zero bytes.
   */
  apply(tweak: Int32Array, block: Uint8Array, off: number, decrypt: boolean): void {
    const m = this.mask;
    m.fill(0);
    this.hash.absorb(m, tweak, 0, TWEAK_BLOCKS);
    const b32 = this.blk32;
    for (let i = 0; i < 4; i++) {
      const p = off + 4 * i;
      b32[i] = (block[p] | (block[p + 1] << 8) | (block[p + 2] << 16) | (block[p + 3] << 24)) ^ m[i];
    }
    let aes = decrypt ? this.dec : this.enc;
    if (aes === null) {
      aes = this.makeAes(this.kb, decrypt);
      if (decrypt) this.dec = aes;
      else this.enc = aes;
    }
    const out = aes.run(this.blk);
    for (let i = 0; i < 4; i++) {
      const p = off + 4 * i, v = m[i];
      block[p] = out[4 * i] ^ v;
      block[p + 1] = out[4 * i + 1] ^ (v >>> 8);
      block[p + 2] = out[4 * i + 2] ^ (v >>> 16);
      block[p + 3] = out[4 * i + 3] ^ (v >>> 24);
    }
  }
}

/**
 * UIV+ with key K = J ‖ S (64 bytes): the wide-block cipher on a 509-byte cell body T ‖ C, in place.
 * `tag` is the tweak T' (16 bytes) and `ad` the channel command byte.
 */
export class Uiv {
  readonly et: CgoEt;
  readonly prf: CgoPrf;
  private readonly key = new Uint8Array(CGO_UIV_KEY_LEN);
  // w: the ET tweak T' ‖ AD ‖ X_R ‖ 0 0 as 128 words; k: the keystream placed to line up with X_R.
  private readonly w = new Uint8Array(512);
  private readonly w32 = new Int32Array(this.w.buffer);
  private readonly wBody = this.w.subarray(BLOCK + 1, CGO_ET_TWEAK_LEN);
  private readonly k = new Uint8Array(528);
  private readonly k32 = new Int32Array(this.k.buffer);

  constructor(key: Uint8Array, makeAes: AesBlocksFactory) {
    requireLittleEndian();
    checkLength('cgo uiv key', key, CGO_UIV_KEY_LEN);
    this.key.set(key);
    this.et = new CgoEt(this.key, makeAes, 0);
    this.prf = new CgoPrf(this.key, makeAes, CGO_ET_KEY_LEN);
  }

  /** A copy of the current K = J ‖ S, for the vector tests and diagnostics only. */
  currentKey(): Uint8Array {
    return this.key.slice();
  }

  /** ENC_UIV: the relay direction. */
  encrypt(tag: Uint8Array, ad: number, cell: Uint8Array): void {
    checkLength('cgo tag', tag, BLOCK);
    checkLength('cgo cell', cell, BODY);
    checkAd(ad);
    const w = this.w;
    w.set(tag, 0);
    w[BLOCK] = ad;
    w.set(cell.subarray(BLOCK), BLOCK + 1);
    this.et.apply(this.w32, cell, 0, false); // Y_L
    this.xorKeystream(this.prf.stream(cell, 0, 0));
    cell.set(this.wBody, BLOCK); // Y_R
  }

  /** DEC_UIV: the client direction. */
  decrypt(tag: Uint8Array, ad: number, cell: Uint8Array): void {
    checkLength('cgo tag', tag, BLOCK);
    checkLength('cgo cell', cell, BODY);
    checkAd(ad);
    const w = this.w;
    w.set(cell.subarray(BLOCK), BLOCK + 1);
    this.xorKeystream(this.prf.stream(cell, 0, 0)); // X_R
    w.set(tag, 0);
    w[BLOCK] = ad;
    this.et.apply(this.w32, cell, 0, true); // X_L
    cell.set(this.wBody, BLOCK);
  }

  /** w[17..510] ^= ks[0..493], keeping the two padding bytes of the tweak zero. */
  private xorKeystream(ks: Uint8Array): void {
    const k = this.k, k32 = this.k32, w32 = this.w32;
    k.set(ks, BLOCK + 1); // k[0..17] stays zero, so AD is untouched
    for (let i = 4; i < 128; i++) w32[i] ^= k32[i];
    this.w[510] = 0;
    this.w[511] = 0;
  }

  /**
   * UPDATE_UIV: (J' ‖ S' ‖ N') = PRF(S, nonce, 1); the keys are replaced and nonce[0..16] := N'.
   * `nonce` may be any 16-byte array (it is read before it is written).
   */
  update(nonce: Uint8Array): void {
    checkLength('cgo nonce', nonce, BLOCK);
    const out = this.prf.stream(nonce, 0, 1);
    this.key.set(out.subarray(0, UIV_KEY));
    nonce.set(out.subarray(UIV_KEY, N1_LEN));
    out.fill(0);
    this.et.setKey(this.key, 0);
    this.prf.setKey(this.key, ET_KEY);
  }
}

/**
 * One direction of one hop's CGO state, at a relay or at the client: K (inside the Uiv), the nonce
 * N and the previous tag T'. Made from a seed K ‖ N (80 bytes); T' starts at zero.
 */
export class CgoState {
  readonly uiv: Uiv;
  readonly nonce = new Uint8Array(BLOCK);
  readonly tag = new Uint8Array(BLOCK);

  constructor(seed: Uint8Array, backend: CryptoBackend = nodeBackend) {
    checkLength('cgo seed', seed, CGO_SEED_LEN);
    this.uiv = new Uiv(seed.subarray(0, CGO_UIV_KEY_LEN), aesBlocksFor(backend));
    this.nonce.set(seed.subarray(CGO_UIV_KEY_LEN));
  }
}

/** Constant-time comparison of two 16-byte blocks at a[aOff..] and b[0..]. */
export function equalBlock(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < BLOCK; i++) d |= a[aOff + i] ^ b[i];
  return d === 0;
}

/**
 * Split a circuit handshake's CGO key material (180 bytes) as arti's CryptStatePair does:
 * forward seed (away from the client) ‖ backward seed ‖ circuit binding.
 */
export function splitCgoKeyMaterial(km: Uint8Array): { forward: Uint8Array; backward: Uint8Array; binding: Uint8Array } {
  checkLength('cgo key material', km, CGO_KEY_MATERIAL_LEN);
  return {
    forward: km.slice(0, CGO_SEED_LEN),
    backward: km.slice(CGO_SEED_LEN, 2 * CGO_SEED_LEN),
    binding: km.slice(2 * CGO_SEED_LEN, 2 * CGO_SEED_LEN + CGO_BINDING_LEN),
  };
}

/** One-shot PRF (for tests): 493 bytes of PRF_n0 for t=0, 80 bytes of PRF_n1 for t=1. */
export function cgoPrf(key: Uint8Array, tweak: Uint8Array, t: 0 | 1, backend: CryptoBackend = nodeBackend): Uint8Array {
  checkLength('cgo prf key', key, CGO_PRF_KEY_LEN);
  checkLength('cgo prf tweak', tweak, BLOCK);
  const out = new CgoPrf(key, aesBlocksFor(backend)).stream(tweak, 0, t);
  return out.slice(0, t === 1 ? CGO_PRF_N1_LEN : CGO_C_LEN);
}

/** One-shot ET (for tests): ENC_ET or DEC_ET of a 16-byte block under a 510-byte tweak. */
export function cgoEt(
  key: Uint8Array, tweak: Uint8Array, block: Uint8Array, decrypt: boolean, backend: CryptoBackend = nodeBackend,
): Uint8Array {
  checkLength('cgo et key', key, CGO_ET_KEY_LEN);
  checkLength('cgo et tweak', tweak, CGO_ET_TWEAK_LEN);
  checkLength('cgo et block', block, BLOCK);
  const w = new Uint8Array(512);
  w.set(tweak);
  const out = block.slice();
  new CgoEt(key, aesBlocksFor(backend)).apply(new Int32Array(w.buffer), out, 0, decrypt);
  return out;
}
