// The system CSPRNG, for the layers above crypto/ (which may not import node:crypto themselves):
// the node's routing core gets its injected randomness from here, key files their temp names.
import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** `n` bytes from the operating system's CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('randomBytes: n must be a non-negative integer');
  const b = nodeRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
