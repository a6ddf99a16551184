// Incremental SHA-256 over a stream, for the layers above crypto/ (which may not import
// node:crypto themselves): tools and tests that check content byte-identical without holding it.
import { createHash } from 'node:crypto';

export interface Hasher {
  update(chunk: Uint8Array): void;
  /** The digest of everything passed to update; the hasher is spent afterwards. */
  digest(): Uint8Array;
}

export function sha256Hasher(): Hasher {
  const h = createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => new Uint8Array(h.digest()),
  };
}
