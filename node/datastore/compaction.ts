// Compaction of the datastore's segment files (node/datastore/datastore.ts; DESIGN.md "Store"):
// while the files are over maxBytes, the sealed segment with the fewest live bytes is retired.
// Its live records are copied to the active segment byte for byte (header re-bound to the new
// position, record.ts), the tombstones still needed are carried forward (tombstones.ts: only
// while their slot is out of the index and has garbage in another segment), the copies are made
// durable, and then the segment is deleted. A crash in between leaves both copies; the scan at
// open (scan.ts) keeps the later one.

import fs from 'node:fs';
import type { BlockKind } from '../../store/block-store.ts';
import { syncDir } from '../files.ts';
import { decodeHeader, HEADER_LEN, rebindHeader } from './record.ts';
import { appendRecord, readAt, type Segment, segmentPath } from './segments.ts';
import { type DatastoreState, type Entry, keyOf, kindOfSize } from './state.ts';

/**
 * While the files are over maxBytes, retire the sealed segment with the fewest live bytes: walk
 * its records, copying the live ones to the active segment (byte for byte, header re-bound to
 * the new position) and noting its garbage and tombstones; carry forward the tombstones still
 * needed, make the copies durable, then delete it. A crash in between leaves both copies; the
 * scan at open keeps the later one.
 */
export function compact(s: DatastoreState): void {
  s.writePending(); // the victim's garbage may be what they bury
  for (let round = s.segs.size + 2; round > 0 && s.overDisk(); round--) {
    let victim: Segment | undefined;
    for (const seg of s.segs.values()) if (seg !== s.active && (!victim || seg.live < victim.live)) victim = seg;
    if (!victim) return;
    const garbage: string[] = [];
    const tombstones = new Map<string, BlockKind>();
    for (let off = 0, end = victim.size; off + HEADER_LEN <= end; ) {
      const h = s.headerAt(victim, off);
      if (!h) break; // garbled mid-segment (bit rot): its garbage past here stays counted, which only keeps tombstones longer
      const k = keyOf(h.slot);
      const e = h.type === 'block' ? s.lru.get(k) : undefined;
      if (h.type === 'tombstone') tombstones.set(k, h.kind);
      else if (e && e.seg === victim.id && e.off === off) moveForward(s, k, e, victim, s.headerScratch, tombstones);
      else garbage.push(k);
      off += HEADER_LEN + h.length;
    }
    for (const k of [...victim.keys]) moveForward(s, k, s.lru.get(k)!, victim, null, tombstones); // live records past a garbled header
    for (const k of garbage) s.graves.buried(k);
    // A tombstone moves forward while its slot is out of the index and has garbage elsewhere.
    // (If the slot is indexed again, its live record is later than every record it cancelled.)
    for (const [k, kind] of tombstones) if (!s.lru.get(k) && s.graves.hasGarbage(k)) s.graves.owe(k, kind);
    s.flush(); // writes them too
    fs.closeSync(victim.fd);
    fs.unlinkSync(segmentPath(s.dir, victim.id));
    s.segs.delete(victim.id);
    s.commits.forget(victim);
    syncDir(s.dir);
    s.compactions++;
  }
}

/**
 * Copy a live record from the victim to the end of the active segment. `header` is its header
 * if the caller already read and checked it. A record that cannot be read is dropped (corrupt);
 * its slot's older records, if any, get a tombstone (in `tombstones`).
 */
function moveForward(s: DatastoreState, k: string, e: Entry, victim: Segment, header: Uint8Array | null, tombstones: Map<string, BlockKind>): void {
  let raw: Uint8Array | null;
  if (header) {
    raw = Buffer.allocUnsafeSlow(HEADER_LEN + e.size);
    raw.set(header, 0);
    if (!readAt(victim.fd, e.off + HEADER_LEN, e.size, raw.subarray(HEADER_LEN))) raw = null;
  } else {
    raw = readAt(victim.fd, e.off, HEADER_LEN + e.size);
    if (raw && !decodeHeader(s.keys, raw, victim.id, e.off)) raw = null;
  }
  s.unlive(k, e, false); // its bytes go with the victim
  if (!raw) {
    s.lru.remove(k);
    s.corrupt++;
    tombstones.set(k, kindOfSize(e.size));
    return;
  }
  if (s.active.size >= s.segmentBytes) s.roll();
  rebindHeader(s.keys, raw, s.active.id, s.active.size);
  e.seg = s.active.id;
  e.off = appendRecord(s.active, [raw]);
  s.active.live += raw.length;
  s.active.keys.add(k);
  s.commits.wrote(s.active, raw.length);
}
