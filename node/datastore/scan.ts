// The datastore's index rebuild at open (node/datastore/datastore.ts; DESIGN.md "Store"): read
// every segment in log order, let each block record become its slot's indexed one and each
// tombstone (tombstones.ts) take its slot out, cut a torn or garbled tail (a record whose header
// MAC, bound to its position, fails: what a crash mid-write leaves), then hold the index to the
// roles' budgets (store/store-policy.ts), which may have shrunk or been overrun by tombstones lost
// in a crash: the roles' oldest blocks go, in log order, and are buried like any eviction.

import fs from 'node:fs';
import type { BlockKind } from '../../store/block-store.ts';
import { HEADER_LEN } from './record.ts';
import { fileSize, openSegment } from './segments.ts';
import { type DatastoreState, keyOf, kindOfSize } from './state.ts';

/** Rebuild the index of a freshly made state from the segments `ids` (ascending); owe the tombstones it needs. */
export function rebuildIndex(s: DatastoreState, ids: number[]): void {
  const cut = new Map<string, BlockKind>(); // slots the budgets pushed out of the index during the scan
  for (const id of ids) scanSegment(s, id, cut);
  // The log may hold more than the budgets allow (they shrank, or a crash lost tombstones):
  // the roles' oldest go, in log order, and are buried like any eviction.
  for (const [k, e] of s.lru.trim()) {
    s.unlive(k, e, true);
    cut.set(k, kindOfSize(e.size));
  }
  for (const [k, kind] of cut) if (!s.lru.get(k)) s.graves.owe(k, kind); // so they stay out at the next open
}

/**
 * Rebuild the index from one segment, in log order: a block record becomes its slot's indexed
 * one, a tombstone takes its slot out. A record too big for its role's budget is garbage, and
 * its slot goes in `cut`, to be buried after the scan. Truncate a torn or garbled tail.
 */
function scanSegment(s: DatastoreState, id: number, cut: Map<string, BlockKind>): void {
  const seg = openSegment(s.dir, id, false);
  s.segs.set(id, seg);
  const size = fileSize(seg.fd);
  let off = 0;
  while (off + HEADER_LEN <= size) {
    const h = s.headerAt(seg, off);
    if (!h || off + HEADER_LEN + h.length > size) break;
    seg.size = off + HEADER_LEN + h.length;
    const k = keyOf(h.slot);
    if (h.type === 'tombstone') {
      seg.live += HEADER_LEN;
      seg.tombstones++;
      const e = s.lru.remove(k);
      if (e) s.unlive(k, e, true);
      cut.delete(k); // already buried
    } else {
      const old = s.lru.remove(k); // cancelled by this later record
      if (old) s.unlive(k, old, true);
      if (s.lru.fits(h.role, h.length)) {
        s.lru.add(k, { role: h.role, size: h.length, seg: id, off }); // budgets are enforced after the whole log is read
        seg.live += HEADER_LEN + h.length;
        seg.keys.add(k);
        cut.delete(k);
      } else {
        // Too big for its role now (the budgets shrank): garbage, and the slot's older records stay cancelled.
        s.graves.died(k);
        cut.set(k, h.kind);
      }
    }
    off = seg.size;
  }
  if (off < size) {
    fs.ftruncateSync(seg.fd, off);
    s.tornTails++;
  }
  seg.size = off;
}
