// The system CSPRNG, for the layers above crypto/ (which may not import node:crypto themselves):
// the node's routing core gets its injected randomness from here, key files their temp names.
// Small requests (request ids, nonces: 8-32 bytes, several per block a node relays) are served from
// a 4 KiB pool filled by one randomFillSync: at V8's baseline tier a node:crypto randomBytes(16) costs
// ~2.4 us here, a slice of the pool ~0.1 us. Every pooled byte is handed out once, as a copy, and
// the pool is refilled whole, never reused.
import { randomBytes as nodeRandomBytes, randomFillSync } from 'node:crypto';

const POOL_LEN = 4096;
const POOLED_MAX = 64; // larger requests go straight to the CSPRNG
let pool = new Uint8Array(0);
let at = 0;

/** `n` bytes from the operating system's CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('randomBytes: n must be a non-negative integer');
  if (n <= POOLED_MAX) {
    if (at + n > pool.length) {
      pool = randomFillSync(new Uint8Array(POOL_LEN));
      at = 0;
    }
    const out = pool.slice(at, at + n);
    pool.fill(0, at, at + n); // what was handed out does not stay behind in the pool
    at += n;
    return out;
  }
  const b = nodeRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
