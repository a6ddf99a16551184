// The node's on-disk datastore (DESIGN.md "Store"; issue 4): append-only segment files of sealed,
// salted records (node/datastore/record.ts, store/slots.ts) with an in-memory index rebuilt by
// scanning the segments at open. Synchronous, implementing store/block-store.ts for the sans-IO core.
//
// - Bounded: the two roles' budgets (store/store-policy.ts) cover LIVE_FRACTION of maxBytes; the
//   rest is room for garbage, and compaction (copy a segment's live records forward, fsync, delete
//   it) keeps the files under maxBytes plus one segment.
// - Verified: put checks the block against its routing key (unless its caller just did: the router
//   verifies every block from a peer before keeping it), and so does every get, after unsealing;
//   a record that fails (bit rot, a torn write) is dropped from the index and never served.
// - Crash-safe without syncing every write: writes go to the page cache, fdatasync runs in groups
//   (every syncBytes or syncMs, on the thread pool; synchronously on flush/close). After a crash (SIGKILL, power loss) the index is
//   rebuilt from the segments; a scan stops at the first record whose header MAC (bound to its
//   position) fails, i.e. a torn tail, and truncates it. Blocks in whole-looking records are still
//   verified on get, so nothing torn is ever served.
// - Not listable: files hold slots (salted hashes) and sealed blocks, never routing keys; see slots.ts.

import fs from 'node:fs';
import { sskNewer } from '../../crypto/ssk.ts';
import type { BlockKind, BlockStore, BlockStoreOptions, BlockStoreStats, PutOptions, StoreRole } from '../../store/block-store.ts';
import { checkKindAndKey, verifyBlock } from '../../store/block-verify.ts';
import { SEAL_LEN, sealKeyOf, sealPrefix, slotOf } from '../../store/slots.ts';
import { RoleLru, roleBudgets } from '../../store/store-policy.ts';
import { syncDir } from '../files.ts';
import { decodeHeader, encodeHeader, HEADER_LEN, rebindHeader } from './record.ts';
import {
  appendRecord,
  fileSize,
  listSegments,
  loadOrCreateSalt,
  openSegment,
  readAt,
  type Segment,
  segmentPath,
} from './segments.ts';

/** Share of maxBytes that live blocks may use; the rest absorbs garbage between compactions. */
export const LIVE_FRACTION = 0.8;
const MAX_SEGMENT = 64 * 2 ** 20;
const MIN_SEGMENT = 256 * 2 ** 10;

export interface DatastoreOptions extends BlockStoreOptions {
  /** Segment file size; default maxBytes/16 clamped to [256 KiB, 64 MiB]. */
  segmentBytes?: number;
  /** Group commit: fdatasync after this many bytes written (default 64 MiB)… */
  syncBytes?: number;
  /** …or when a put comes this many ms after the last sync (default 1000). */
  syncMs?: number;
}

export interface DatastoreStats extends BlockStoreStats {
  /** Bytes in segment files, and how many there are. */
  diskBytes: number;
  segments: number;
  /** Records found torn (cut at a crash) and truncated at open. */
  tornTails: number;
  compactions: number;
}

interface Entry {
  role: StoreRole;
  size: number;
  seg: number;
  off: number;
}

const keyOf = (slot: Uint8Array): string => Buffer.from(slot.buffer, slot.byteOffset, slot.length).toString('base64');

export function open(dir: string, opts: DatastoreOptions): Datastore {
  return new Datastore(dir, opts);
}

export class Datastore implements BlockStore {
  private readonly salt: Uint8Array;
  private readonly lru: RoleLru<Entry>;
  private readonly segs = new Map<number, Segment>();
  private active!: Segment;
  private readonly dirty = new Set<Segment>();
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly syncBytes: number;
  private readonly syncMs: number;
  private unsynced = 0;
  private lastSync = performance.now();
  private corrupt = 0;
  private tornTails = 0;
  private compactions = 0;
  private closed = false;
  private readonly syncing = new Map<Segment, number>(); // segment → background group syncing it
  private group = 0;

  constructor(readonly dir: string, opts: DatastoreOptions) {
    this.maxBytes = opts.maxBytes;
    this.lru = new RoleLru(roleBudgets(Math.floor(opts.maxBytes * LIVE_FRACTION), opts.storeFraction));
    this.segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT, Math.max(MIN_SEGMENT, Math.floor(opts.maxBytes / 16)));
    this.syncBytes = opts.syncBytes ?? 64 * 2 ** 20;
    this.syncMs = opts.syncMs ?? 1000;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { salt, created } = loadOrCreateSalt(dir);
    this.salt = salt;
    const ids = listSegments(dir);
    if (created) for (const id of ids) fs.unlinkSync(segmentPath(dir, id)); // sealed under a lost salt: unreadable
    else for (const id of ids) this.scan(id);
    const last = created ? undefined : this.segs.get(ids[ids.length - 1]);
    this.active = last && last.size < this.segmentBytes ? last : this.newSegment((ids[ids.length - 1] ?? 0) + 1);
    this.compact();
  }

  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    this.check(kind, routingKey);
    const k = keyOf(slotOf(this.salt, kind, routingKey));
    const e = this.lru.get(k);
    if (!e) return undefined;
    const block = this.readVerified(k, e, kind, routingKey);
    if (block) this.lru.touch(k);
    return block;
  }

  has(kind: BlockKind, routingKey: Uint8Array): boolean {
    this.check(kind, routingKey);
    return this.lru.get(keyOf(slotOf(this.salt, kind, routingKey))) !== undefined;
  }

  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole, opts: PutOptions = {}): boolean {
    this.check(kind, routingKey);
    if (role !== 'store' && role !== 'cache') throw new TypeError(`block store: unknown role ${String(role)}`);
    if (opts.verified !== true && !verifyBlock(kind, routingKey, block)) return false;
    const k = keyOf(slotOf(this.salt, kind, routingKey));
    const e = this.lru.get(k);
    if (e) {
      let same = kind === 'CHK'; // a verified CHK block is the only block its key names
      if (kind === 'SSK') {
        const old = this.readVerified(k, e, kind, routingKey);
        if (old) {
          if (Buffer.from(old).equals(block)) same = true;
          else if (sskNewer(old, block) === old) return false; // older than what is held: ignored
        }
      }
      if (same && (e.role === 'store' || role === 'cache')) {
        this.lru.touch(k);
        return true;
      }
      if (!same && e.role === 'store') role = 'store'; // a newer version keeps its role; never demoted
    }
    if (!this.lru.fits(role, block.length)) return false;
    this.append(k, kind, role, routingKey, block);
    return true;
  }

  stats(): DatastoreStats {
    let diskBytes = 0;
    for (const s of this.segs.values()) diskBytes += s.size;
    return {
      store: this.lru.stats('store'),
      cache: this.lru.stats('cache'),
      evictions: this.lru.evictions,
      corrupt: this.corrupt,
      diskBytes,
      segments: this.segs.size,
      tornTails: this.tornTails,
      compactions: this.compactions,
    };
  }

  flush(): void {
    if (this.closed) return;
    // Segments of a background group still in flight are synced again here: flush promises
    // durability now, and the thread pool may not even have started on them.
    for (const s of new Set([...this.dirty, ...this.syncing.keys()])) if (this.segs.get(s.id) === s) fs.fdatasyncSync(s.fd);
    this.dirty.clear();
    this.syncing.clear();
    this.unsynced = 0;
    this.lastSync = performance.now();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    for (const s of this.segs.values()) fs.closeSync(s.fd);
    this.segs.clear();
    this.closed = true;
  }

  // --- internals ---

  private check(kind: BlockKind, routingKey: Uint8Array): void {
    if (this.closed) throw new Error('datastore: closed');
    checkKindAndKey(kind, routingKey);
  }

  /** Read, unseal and verify a record; drop it (counted as corrupt) if anything is wrong. */
  private readVerified(k: string, e: Entry, kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    const seg = this.segs.get(e.seg);
    const raw = seg ? readAt(seg.fd, e.off, HEADER_LEN + e.size) : null;
    const h = raw ? decodeHeader(this.salt, raw, e.seg, e.off) : null;
    if (raw && h && h.kind === kind && h.length === e.size && keyOf(h.slot) === k) {
      const block = new Uint8Array(raw.buffer, raw.byteOffset + HEADER_LEN, e.size);
      block.set(sealPrefix(sealKeyOf(this.salt, kind, routingKey), h.nonce, block), 0);
      if (verifyBlock(kind, routingKey, block)) return block;
    }
    this.drop(k);
    this.corrupt++;
    return undefined;
  }

  private append(k: string, kind: BlockKind, role: StoreRole, routingKey: Uint8Array, block: Uint8Array): void {
    if (this.active.size >= this.segmentBytes) this.roll();
    const seg = this.active;
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(16));
    const slot = Buffer.from(k, 'base64');
    const header = encodeHeader(this.salt, { kind, role, length: block.length, slot, nonce }, seg.id, seg.size);
    const sealed = sealPrefix(sealKeyOf(this.salt, kind, routingKey), nonce, block);
    const off = appendRecord(seg, [header, sealed, block.subarray(SEAL_LEN)]);
    this.index(k, { role, size: block.length, seg: seg.id, off });
    this.wrote(seg, HEADER_LEN + block.length);
    if (this.overDisk()) this.compact();
  }

  /** Put an entry in the index and keep the segments' live counts right. */
  private index(k: string, e: Entry): void {
    this.drop(k);
    for (const [vk, v] of this.lru.set(k, e)) this.unlive(vk, v);
    const seg = this.segs.get(e.seg)!;
    seg.live += HEADER_LEN + e.size;
    seg.keys.add(k);
  }

  private drop(k: string): void {
    const old = this.lru.remove(k);
    if (old) this.unlive(k, old);
  }

  private unlive(k: string, e: Entry): void {
    const seg = this.segs.get(e.seg);
    if (!seg) return;
    seg.live -= HEADER_LEN + e.size;
    seg.keys.delete(k);
  }

  private wrote(seg: Segment, n: number): void {
    this.dirty.add(seg);
    this.unsynced += n;
    if (this.unsynced >= this.syncBytes || performance.now() - this.lastSync >= this.syncMs) this.syncInBackground();
  }

  /**
   * A group commit off the event loop: fdatasync the dirty segments on libuv's thread pool, so a
   * node relaying at full speed does not stall for the disk. The index is updated as before (a
   * crash before the sync loses what the page cache held, as it would with a synchronous sync a
   * moment later; the scan at open cuts any torn tail). One group at a time; flush() and close()
   * stay synchronous and durable.
   */
  private syncInBackground(): void {
    if (this.syncing.size > 0) return; // the segments stay dirty; the first put after this group syncs them
    this.unsynced = 0;
    this.lastSync = performance.now();
    const group = ++this.group;
    for (const seg of this.dirty) {
      this.syncing.set(seg, group);
      // An error (EBADF after a close, EIO) is left to the next synchronous flush to meet.
      fs.fdatasync(seg.fd, () => {
        if (this.syncing.get(seg) === group) this.syncing.delete(seg);
      });
    }
    this.dirty.clear();
  }

  private newSegment(id: number): Segment {
    const seg = openSegment(this.dir, id, true);
    this.segs.set(id, seg);
    syncDir(this.dir);
    return seg;
  }

  private roll(): void {
    this.active = this.newSegment(this.active.id + 1);
  }

  private overDisk(): boolean {
    let total = 0;
    for (const s of this.segs.values()) total += s.size;
    return total > this.maxBytes;
  }

  /**
   * While the files are over maxBytes, retire the sealed segment with the fewest live bytes: copy
   * its live records to the active segment (byte for byte, header re-bound to the new position),
   * make the copies durable, then delete it. A crash in between leaves both copies; the scan at
   * open keeps the later one.
   */
  private compact(): void {
    for (let round = this.segs.size + 2; round > 0 && this.overDisk(); round--) {
      let victim: Segment | undefined;
      for (const s of this.segs.values()) if (s !== this.active && (!victim || s.live < victim.live)) victim = s;
      if (!victim) return;
      for (const k of [...victim.keys]) {
        const e = this.lru.get(k)!;
        const raw = readAt(victim.fd, e.off, HEADER_LEN + e.size);
        if (!raw || !decodeHeader(this.salt, raw, victim.id, e.off)) {
          this.drop(k);
          this.corrupt++;
          continue;
        }
        if (this.active.size >= this.segmentBytes) this.roll();
        rebindHeader(this.salt, raw, this.active.id, this.active.size);
        const off = appendRecord(this.active, [raw]);
        this.unlive(k, e);
        e.seg = this.active.id;
        e.off = off;
        this.active.live += raw.length;
        this.active.keys.add(k);
        this.dirty.add(this.active);
      }
      this.flush();
      fs.closeSync(victim.fd);
      fs.unlinkSync(segmentPath(this.dir, victim.id));
      this.segs.delete(victim.id);
      this.dirty.delete(victim);
      syncDir(this.dir);
      this.compactions++;
    }
  }

  /** Rebuild the index from one segment, in log order; truncate a torn or garbled tail. */
  private scan(id: number): void {
    const seg = openSegment(this.dir, id, false);
    this.segs.set(id, seg);
    const size = fileSize(seg.fd);
    let off = 0;
    while (off + HEADER_LEN <= size) {
      const raw = readAt(seg.fd, off, HEADER_LEN);
      const h = raw ? decodeHeader(this.salt, raw, id, off) : null;
      if (!h || off + HEADER_LEN + h.length > size) break;
      seg.size = off + HEADER_LEN + h.length;
      const k = keyOf(h.slot);
      if (this.lru.fits(h.role, h.length)) this.index(k, { role: h.role, size: h.length, seg: id, off });
      off = seg.size;
    }
    if (off < size) {
      fs.ftruncateSync(seg.fd, off);
      this.tornTails++;
    }
    seg.size = off;
  }
}
