// The 256-bit key space shared by node ids and routing keys, with Kademlia's XOR metric
// (Maymounkov and Mazieres 2002, §2.1): d(a, b) = a XOR b read as a big-endian integer. Distances
// are compared byte by byte, never materialised as BigInt, so the hot path (table lookups, the
// routing decision) allocates nothing. A node's id derives from its identity key
// (crypto/identity.ts: nodeId = SHA-256("umbra/node-id/v1" ‖ 0x00 ‖ Ed25519 public key)).

import { toHex } from '../crypto/bytes.ts';
import { KEY_LEN } from './constants.ts';

export { nodeIdOf } from '../crypto/identity.ts';

/** A node id or a routing key: KEY_LEN (32) bytes. */
export type NodeId = Uint8Array;

export const KEY_BITS = KEY_LEN * 8;

export function isKey(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === KEY_LEN;
}

/** Byte equality of two ids (ids are public: no constant-time need). */
export function idEquals(a: NodeId, b: NodeId): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Hex of an id, for map keys and logs. */
export function idHex(id: NodeId): string {
  return toHex(id);
}

/** Number of leading bits a and b share, 0..256 (256 when equal). */
export function commonPrefixLength(a: NodeId, b: NodeId): number {
  for (let i = 0; i < KEY_LEN; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return KEY_BITS;
}

/** Sign of d(a, key) - d(b, key): negative when a is closer to key than b, 0 when a equals b. */
export function compareDistance(a: NodeId, b: NodeId, key: NodeId): number {
  for (let i = 0; i < KEY_LEN; i++) {
    const da = a[i] ^ key[i];
    const db = b[i] ^ key[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** True when a is strictly closer to key than b. */
export function closer(a: NodeId, b: NodeId, key: NodeId): boolean {
  return compareDistance(a, b, key) < 0;
}

/** The XOR distance itself (for display and tests; comparisons use compareDistance). */
export function distance(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(KEY_LEN);
  for (let i = 0; i < KEY_LEN; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * A random key sharing exactly `bits` leading bits with `self` (0 ≤ bits < 256): the first `bits`
 * bits are self's, the next one is flipped, the rest come from `random`. Used to refresh bucket
 * `bits`, whose range is exactly these keys.
 */
export function randomKeyAtPrefix(self: NodeId, bits: number, random: (n: number) => Uint8Array): Uint8Array {
  if (!Number.isInteger(bits) || bits < 0 || bits >= KEY_BITS) throw new RangeError('randomKeyAtPrefix: bits out of range');
  const out = random(KEY_LEN);
  if (out.length !== KEY_LEN) throw new RangeError('randomKeyAtPrefix: random source gave the wrong length');
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) out[i] = self[i];
  const rem = bits & 7;
  const flip = 0x80 >>> rem; // the first bit that differs
  const keep = (0xff00 >>> rem) & 0xff; // self's bits before it
  out[whole] = (self[whole] & keep) | ((self[whole] ^ flip) & flip) | (out[whole] & (flip - 1));
  return out;
}
