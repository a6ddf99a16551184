// Block verification for the stores (DESIGN.md "Store"): one place that says whether a block is
// exactly what its routing key names, for CHK (crypto/chk.ts: the hash of the block) and SSK
// (crypto/ssk.ts: public key and doc tag give the key, and the signature verifies). Never throws on
// hostile bytes; returns null instead.

import { chkVerify } from '../crypto/chk.ts';
import { CHK_ENCODED_LEN, SSK_BLOCK_LEN } from '../crypto/constants.ts';
import { sskVerify } from '../crypto/ssk.ts';
import type { BlockKind } from './block-store.ts';

export const ROUTING_KEY_LEN = 32;

/** The only block length a kind allows. */
export function blockLength(kind: BlockKind): number {
  return kind === 'CHK' ? CHK_ENCODED_LEN : SSK_BLOCK_LEN;
}

/** API misuse by our own code (a kind that is not one, a key of the wrong size) is a TypeError/RangeError. */
export function checkKindAndKey(kind: BlockKind, routingKey: Uint8Array): void {
  if (kind !== 'CHK' && kind !== 'SSK') throw new TypeError(`block store: unknown kind ${String(kind)}`);
  if (!(routingKey instanceof Uint8Array) || routingKey.length !== ROUTING_KEY_LEN) {
    throw new RangeError(`block store: routing key must be ${ROUTING_KEY_LEN} bytes`);
  }
}

/** { version } if the block verifies under the key (CHK blocks are version 0), null otherwise. */
export function verifyBlock(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array): { version: number } | null {
  if (!(block instanceof Uint8Array) || block.length !== blockLength(kind)) return null;
  if (kind === 'CHK') return chkVerify(routingKey, block) ? { version: 0 } : null;
  try {
    return sskVerify(routingKey, block);
  } catch {
    return null;
  }
}
