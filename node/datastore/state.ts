// The datastore's shared state (node/datastore/datastore.ts; DESIGN.md "Store"): the in-memory
// index (a per-role LRU of slot → record position), the open segment files and which one takes
// appends, the tombstone and group-commit bookkeeping, and the counters the stats report. The
// store's get/put path (datastore.ts), the scan at open (scan.ts) and compaction (compaction.ts)
// all work on one of these. Here too is the bookkeeping they share: a record stops being live,
// owed tombstones are written, a new segment is started, the files' size against the bound.

import { CHK_ENCODED_LEN } from '../../crypto/constants.ts';
import type { BlockKind, StoreRole } from '../../store/block-store.ts';
import type { SaltedKeys } from '../../store/slots.ts';
import type { RoleLru } from '../../store/store-policy.ts';
import { syncDir } from '../files.ts';
import type { GroupCommit } from './group-commit.ts';
import { decodeHeader, HEADER_LEN, type RecordHeader } from './record.ts';
import { appendRecord, openSegment, readAt, type Segment } from './segments.ts';
import { Tombstones } from './tombstones.ts';

/** Where a slot's indexed record is, and what it holds. */
export interface Entry {
  role: StoreRole;
  size: number;
  seg: number;
  off: number;
}

export const keyOf = (slot: Uint8Array): string => Buffer.from(slot.buffer, slot.byteOffset, slot.length).toString('base64');
export const kindOfSize = (size: number): BlockKind => (size === CHK_ENCODED_LEN ? 'CHK' : 'SSK');

export class DatastoreState {
  readonly segs = new Map<number, Segment>();
  /** The segment appends go to; set once the scan at open has read the others. */
  active!: Segment;
  readonly graves = new Tombstones();
  readonly headerScratch = new Uint8Array(HEADER_LEN);
  corrupt = 0;
  tornTails = 0;
  compactions = 0;

  constructor(
    readonly dir: string,
    readonly keys: SaltedKeys,
    readonly lru: RoleLru<Entry>,
    readonly commits: GroupCommit,
    readonly maxBytes: number,
    readonly segmentBytes: number,
  ) {}

  /** A record stops being live; `garbage` if its bytes stay in the files. */
  unlive(k: string, e: Entry, garbage: boolean): void {
    const seg = this.segs.get(e.seg);
    if (!seg) return;
    seg.live -= HEADER_LEN + e.size;
    seg.keys.delete(k);
    if (garbage) this.graves.died(k);
  }

  /** The owed tombstones, `n` of them, were just written to a segment: each counts as live until compaction drops it. */
  wroteTombstones(seg: Segment, n: number): void {
    if (n === 0) return;
    this.graves.paid();
    seg.live += n * HEADER_LEN;
    seg.tombstones += n;
    this.commits.wrote(seg, n * HEADER_LEN);
  }

  /** Write the owed tombstones now (before a sync, a compaction, a close). */
  writePending(): void {
    if (this.graves.owed === 0) return;
    if (this.active.size >= this.segmentBytes) this.roll();
    const seg = this.active;
    const parts = this.graves.encode(this.keys, seg.id, seg.size);
    appendRecord(seg, [Buffer.concat(parts)]); // one part: there may be more than a writev takes
    this.wroteTombstones(seg, parts.length);
  }

  /** Write the owed tombstones and make everything written durable (synchronously). */
  flush(): void {
    this.writePending();
    this.commits.syncNow((s) => this.segs.get(s.id) === s);
  }

  newSegment(id: number): Segment {
    const seg = openSegment(this.dir, id, true);
    this.segs.set(id, seg);
    syncDir(this.dir);
    return seg;
  }

  roll(): void {
    this.active = this.newSegment(this.active.id + 1);
  }

  overDisk(): boolean {
    let total = 0;
    for (const s of this.segs.values()) total += s.size;
    return total > this.maxBytes;
  }

  /** The header at a position of a segment (MAC checked), or null. */
  headerAt(seg: Segment, off: number): RecordHeader | null {
    const raw = readAt(seg.fd, off, HEADER_LEN, this.headerScratch);
    return raw ? decodeHeader(this.keys, raw, seg.id, off) : null;
  }
}
