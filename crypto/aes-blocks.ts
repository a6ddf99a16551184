// Keyed AES-ECB block engines for constructions that run many small AES calls under one key (CGO's
// PRF counter blocks and ET's single block, Tor proposal 359). The key schedule is set up once per
// key, not once per call as `CryptoBackend.aesEcb` does.
//
// node: a node:crypto ECB cipher object with padding off; one object serves any number of
// `update()` calls of whole blocks (measured: ~0.55 us for one block, ~1 us for 31, ~1.7 us to
// create). noble: `ecb` from @noble/ciphers, pure JavaScript, for the comparison benchmark and as a
// second implementation in the tests.

import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { ecb } from '@noble/ciphers/aes.js';
import type { CryptoBackend } from './backend.ts';

/** AES on whole 16-byte blocks under a fixed key, in one direction. */
export interface AesBlocks {
  /** Encrypt (or decrypt) `input` (a multiple of 16 bytes); returns a fresh buffer of equal length. */
  run(input: Uint8Array): Uint8Array;
}

/** Makes an engine for a 16- or 32-byte AES key (the key bytes are copied). */
export type AesBlocksFactory = (key: Uint8Array, decrypt: boolean) => AesBlocks;

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TypeError('aes: key must be a Uint8Array');
  if (key.length !== 16 && key.length !== 32) throw new RangeError('aes: key must be 16 or 32 bytes');
}

class NodeAesBlocks implements AesBlocks {
  private readonly c: Cipher | Decipher;
  constructor(key: Uint8Array, decrypt: boolean) {
    checkKey(key);
    const alg = key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb';
    this.c = decrypt ? createDecipheriv(alg, key, null) : createCipheriv(alg, key, null);
    this.c.setAutoPadding(false);
  }
  run(input: Uint8Array): Uint8Array {
    return this.c.update(input);
  }
}

// noble's ecb objects are single-use and expand the key on each call anyway.
class NobleAesBlocks implements AesBlocks {
  private readonly key: Uint8Array;
  private readonly decrypt: boolean;
  constructor(key: Uint8Array, decrypt: boolean) {
    checkKey(key);
    this.key = key.slice();
    this.decrypt = decrypt;
  }
  run(input: Uint8Array): Uint8Array {
    const c = ecb(this.key, { disablePadding: true });
    return this.decrypt ? c.decrypt(input) : c.encrypt(input);
  }
}

export const nodeAesBlocks: AesBlocksFactory = (key, decrypt) => new NodeAesBlocks(key, decrypt);
export const nobleAesBlocks: AesBlocksFactory = (key, decrypt) => new NobleAesBlocks(key, decrypt);

/** The engine that matches a backend: OpenSSL for `nodeBackend`, pure JavaScript for `nobleBackend`. */
export function aesBlocksFor(backend: CryptoBackend): AesBlocksFactory {
  return backend.name === 'noble' ? nobleAesBlocks : nodeAesBlocks;
}
