// Group commit for the datastore's segment files (node/datastore/datastore.ts): writes go to the
// page cache, and fdatasync runs in groups, every syncBytes or when a write comes syncMs after the
// last sync, on libuv's thread pool, so a node relaying at full speed does not stall for the disk.
// The index is updated at once either way (a crash before the sync loses what the page cache held,
// as it would with a synchronous sync a moment later; the scan at open cuts any torn tail). One
// group at a time; syncNow() (the store's flush and close) stays synchronous and durable.

import fs from 'node:fs';
import type { Segment } from './segments.ts';

export class GroupCommit {
  private readonly dirty = new Set<Segment>();
  private readonly syncing = new Map<Segment, number>(); // segment → background group syncing it
  private group = 0;
  private unsynced = 0;
  private lastSync = performance.now();

  constructor(
    private readonly syncBytes: number,
    private readonly syncMs: number,
  ) {}

  /** `n` bytes were written to `seg`: start a background group if one is due. */
  wrote(seg: Segment, n: number): void {
    this.dirty.add(seg);
    this.unsynced += n;
    if (this.unsynced >= this.syncBytes || performance.now() - this.lastSync >= this.syncMs) this.syncInBackground();
  }

  /**
   * fdatasync every segment written since its last completed sync, now. Segments of a background
   * group still in flight are synced again: this promises durability now, and the thread pool may
   * not even have started on them. `isOpen` says which segments still have an open descriptor.
   */
  syncNow(isOpen: (seg: Segment) => boolean): void {
    for (const s of new Set([...this.dirty, ...this.syncing.keys()])) if (isOpen(s)) fs.fdatasyncSync(s.fd);
    this.dirty.clear();
    this.syncing.clear();
    this.unsynced = 0;
    this.lastSync = performance.now();
  }

  /** A segment is being deleted: nothing to sync for it any more. */
  forget(seg: Segment): void {
    this.dirty.delete(seg);
    this.syncing.delete(seg);
  }

  private syncInBackground(): void {
    if (this.syncing.size > 0) return; // the segments stay dirty; the first write after this group syncs them
    this.unsynced = 0;
    this.lastSync = performance.now();
    const group = ++this.group;
    for (const seg of this.dirty) {
      this.syncing.set(seg, group);
      // An error (EBADF after a close, EIO) is left to the next synchronous sync to meet.
      fs.fdatasync(seg.fd, () => {
        if (this.syncing.get(seg) === group) this.syncing.delete(seg);
      });
    }
    this.dirty.clear();
  }
}
