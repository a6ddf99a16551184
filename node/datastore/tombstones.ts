// Tombstone bookkeeping for the datastore (node/datastore/datastore.ts; record format in record.ts).
// A block leaves the index (evicted, failed its check) while its record stays in a segment until
// compaction; a tombstone appended after it tells the scan at open that every earlier record of
// that slot is gone. Two things are tracked here:
// - which tombstones are due but not yet written: they go out in the same write as the next record
//   (no system call of their own), or before any sync, compaction or close;
// - per slot, how many garbage records (block records that are not the slot's indexed one) are in
//   the files, so compaction knows whether a tombstone still cancels something: it carries one
//   forward only while its slot is out of the index and has garbage in another segment.
// Pure bookkeeping: the datastore does the writing.

import type { BlockKind } from '../../store/block-store.ts';
import type { SaltedKeys } from '../../store/slots.ts';
import { encodeTombstone, HEADER_LEN } from './record.ts';

const slotOfKey = (k: string): Uint8Array => new Uint8Array(Buffer.from(k, 'base64'));

export class Tombstones {
  private readonly garbage = new Map<string, number>();
  private due: Array<[string, BlockKind]> = [];

  /** A block record of slot `k` became garbage (its bytes stay in the files). */
  died(k: string): void {
    this.garbage.set(k, (this.garbage.get(k) ?? 0) + 1);
  }

  /** A garbage record of slot `k` left the files (its segment was compacted away). */
  buried(k: string): void {
    const n = this.garbage.get(k);
    if (n === undefined) return;
    if (n <= 1) this.garbage.delete(k);
    else this.garbage.set(k, n - 1);
  }

  /** Whether any garbage record of slot `k` is still in the files. */
  hasGarbage(k: string): boolean {
    return this.garbage.has(k);
  }

  /** Slot `k` needs a tombstone (written after everything written so far). */
  owe(k: string, kind: BlockKind): void {
    this.due.push([k, kind]);
  }

  get owed(): number {
    return this.due.length;
  }

  /** The owed tombstones, encoded to sit back to back from `offset` of segment `segment`. */
  encode(keys: SaltedKeys, segment: number, offset: number): Uint8Array[] {
    return this.due.map(([k, kind], i) => encodeTombstone(keys, kind, slotOfKey(k), segment, offset + i * HEADER_LEN));
  }

  /** The tombstones encode() gave were written: none is owed any more. */
  paid(): void {
    this.due = [];
  }
}
