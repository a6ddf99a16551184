// The node's on-disk datastore (DESIGN.md "Store"; issue 4): append-only segment files of sealed,
// salted records (node/datastore/record.ts, store/slots.ts) with an in-memory index rebuilt by
// scanning the segments at open. Synchronous, implementing store/block-store.ts for the sans-IO core.
//
// - Bounded: the two roles' budgets (store/store-policy.ts) cover LIVE_FRACTION of maxBytes; the
//   rest is room for garbage, and compaction (copy a segment's live records forward, fsync, delete
//   it) keeps the files under maxBytes plus one segment. A reopened index is held to the budgets
//   too (if the files hold more, the roles' oldest blocks are evicted at open).
// - Verified: put checks the block against its routing key (unless its caller just did: the router
//   verifies every block from a peer before keeping it), and so does every get, after unsealing;
//   a record that fails (bit rot, a torn write) is dropped from the index and never served.
// - Gone stays gone: a block leaves the index when it is evicted, fails its check, or a newer
//   record of its slot is written. Its bytes stay in their segment until compaction, so in the
//   first two cases a tombstone record follows (tombstones.ts; the newer record is its own proof),
//   and the scan at open lets a tombstone cancel every earlier record of its slot. Compaction
//   carries a tombstone forward only while its slot has garbage in another segment.
// - Crash-safe without syncing every write: writes go to the page cache, fdatasync runs in groups
//   (group-commit.ts; synchronously on flush/close). After a crash (SIGKILL, power loss) the index
//   is rebuilt from the segments; a scan stops at the first record whose header MAC (bound to its
//   position) fails, i.e. a torn tail (block or tombstone), and truncates it. Blocks in
//   whole-looking records are still verified on get, so nothing torn is ever served. A tombstone
//   lost with a torn tail lets its block back in, as if the crash had come just before the
//   eviction; the budgets still hold.
// - Not listable: files hold slots (salted hashes) and sealed blocks, never routing keys; see slots.ts.
//
// A get costs one slot hash and one Map lookup, one pread of header and block into the buffer it
// returns, one ChaCha20 call to unseal, and the block's own check (for a CHK, the SHA-256 that
// dominates, in one pass). The header's MAC, checked when the record was written or scanned, is
// not checked again (record.ts blockHeaderVersion says why that is safe).

import fs from 'node:fs';
import { chkVerifyInPlace } from '../../crypto/chk.ts';
import { CHK_ENCODED_LEN } from '../../crypto/constants.ts';
import { randomBytes } from '../../crypto/random.ts';
import { sskNewer } from '../../crypto/ssk.ts';
import type { BlockKind, BlockStore, BlockStoreOptions, BlockStoreStats, PutOptions, StoreRole } from '../../store/block-store.ts';
import { checkKindAndKey, verifyBlock } from '../../store/block-verify.ts';
import { NONCE_LEN, SaltedKeys, SEAL_LEN, sealKeyOf, sealPrefix, sealV2 } from '../../store/slots.ts';
import { RoleLru, roleBudgets } from '../../store/store-policy.ts';
import { syncDir } from '../files.ts';
import { GroupCommit } from './group-commit.ts';
import { Tombstones } from './tombstones.ts';
import {
  blockHeaderVersion,
  decodeHeader,
  encodeHeader,
  HEADER_LEN,
  headerNonce,
  type RecordHeader,
  rebindHeader,
} from './record.ts';
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
const NONCE_POOL = 4096;

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
  /** Tombstone records in the segment files. */
  tombstones: number;
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
const kindOfSize = (size: number): BlockKind => (size === CHK_ENCODED_LEN ? 'CHK' : 'SSK');

export function open(dir: string, opts: DatastoreOptions): Datastore {
  return new Datastore(dir, opts);
}

export class Datastore implements BlockStore {
  private readonly keys: SaltedKeys;
  private readonly lru: RoleLru<Entry>;
  private readonly segs = new Map<number, Segment>();
  private active!: Segment;
  private readonly commits: GroupCommit;
  private readonly graves = new Tombstones();
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly headerScratch = new Uint8Array(HEADER_LEN);
  private nonces: Uint8Array = new Uint8Array(0);
  private nonceAt = 0;
  private corrupt = 0;
  private tornTails = 0;
  private compactions = 0;
  private closed = false;

  constructor(readonly dir: string, opts: DatastoreOptions) {
    this.maxBytes = opts.maxBytes;
    this.lru = new RoleLru(roleBudgets(Math.floor(opts.maxBytes * LIVE_FRACTION), opts.storeFraction));
    this.segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT, Math.max(MIN_SEGMENT, Math.floor(opts.maxBytes / 16)));
    this.commits = new GroupCommit(opts.syncBytes ?? 64 * 2 ** 20, opts.syncMs ?? 1000);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { salt, created } = loadOrCreateSalt(dir);
    this.keys = new SaltedKeys(salt);
    const ids = listSegments(dir);
    const cut = new Map<string, BlockKind>(); // slots the budgets pushed out of the index during the scan
    if (created) for (const id of ids) fs.unlinkSync(segmentPath(dir, id)); // sealed under a lost salt: unreadable
    else for (const id of ids) this.scan(id, cut);
    // The log may hold more than the budgets allow (they shrank, or a crash lost tombstones):
    // the roles' oldest go, in log order, and are buried like any eviction.
    for (const [k, e] of this.lru.trim()) {
      this.unlive(k, e, true);
      cut.set(k, kindOfSize(e.size));
    }
    const last = created ? undefined : this.segs.get(ids[ids.length - 1]);
    this.active = last && last.size < this.segmentBytes ? last : this.newSegment((ids[ids.length - 1] ?? 0) + 1);
    for (const [k, kind] of cut) if (!this.lru.get(k)) this.graves.owe(k, kind); // so they stay out at the next open
    this.writePending();
    this.compact();
  }

  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    this.check(kind, routingKey);
    const slot = this.keys.slot(kind, routingKey);
    const k = keyOf(slot);
    const e = this.lru.get(k);
    if (!e) return undefined;
    const block = this.readVerified(k, slot, e, kind, routingKey);
    if (block) this.lru.touch(k);
    return block;
  }

  has(kind: BlockKind, routingKey: Uint8Array): boolean {
    this.check(kind, routingKey);
    return this.lru.get(keyOf(this.keys.slot(kind, routingKey))) !== undefined;
  }

  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole, opts: PutOptions = {}): boolean {
    this.check(kind, routingKey);
    if (role !== 'store' && role !== 'cache') throw new TypeError(`block store: unknown role ${String(role)}`);
    if (opts.verified !== true && !verifyBlock(kind, routingKey, block)) return false;
    const slot = this.keys.slot(kind, routingKey);
    const k = keyOf(slot);
    const e = this.lru.get(k);
    if (e) {
      let same = kind === 'CHK'; // a verified CHK block is the only block its key names
      if (kind === 'SSK') {
        const old = this.readVerified(k, slot, e, kind, routingKey);
        if (old) {
          if (Buffer.from(old.buffer, old.byteOffset, old.length).equals(block)) same = true;
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
    this.append(k, slot, kind, role, routingKey, block);
    return true;
  }

  stats(): DatastoreStats {
    let diskBytes = 0, tombstones = 0;
    for (const s of this.segs.values()) {
      diskBytes += s.size;
      tombstones += s.tombstones;
    }
    return {
      store: this.lru.stats('store'),
      cache: this.lru.stats('cache'),
      evictions: this.lru.evictions,
      corrupt: this.corrupt,
      diskBytes,
      segments: this.segs.size,
      tombstones,
      tornTails: this.tornTails,
      compactions: this.compactions,
    };
  }

  flush(): void {
    if (this.closed) return;
    this.writePending();
    this.commits.syncNow((s) => this.segs.get(s.id) === s);
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

  /**
   * Read a record (header and block in one pread, into the buffer the block is returned in),
   * unseal and verify it; evict it (counted as corrupt) if anything is wrong.
   */
  private readVerified(k: string, slot: Uint8Array, e: Entry, kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    const seg = this.segs.get(e.seg);
    const raw = seg ? readAt(seg.fd, e.off, HEADER_LEN + e.size) : null;
    const version = raw ? blockHeaderVersion(raw, kind, e.size, slot) : 0;
    if (raw && version) {
      const block = new Uint8Array(raw.buffer, raw.byteOffset + HEADER_LEN, e.size);
      const nonce = headerNonce(raw);
      if (version === 2) sealV2(routingKey, nonce, block, block);
      else block.set(sealPrefix(sealKeyOf(this.keys.salt, kind, routingKey), nonce, block), 0);
      // A CHK is hashed in place: the label goes over the header bytes just before the block (used by now).
      if (kind === 'CHK' ? chkVerifyInPlace(routingKey, block) : verifyBlock(kind, routingKey, block)) return block;
    }
    this.corrupt++;
    this.evict(k, e);
    return undefined;
  }

  /** Append a block record (after any owed tombstones, in the same write), index it, compact if over the bound. */
  private append(k: string, slot: Uint8Array, kind: BlockKind, role: StoreRole, routingKey: Uint8Array, block: Uint8Array): void {
    if (this.active.size >= this.segmentBytes) this.roll();
    if (this.graves.owed > 64) this.writePending(); // keep one writev's parts few
    const seg = this.active;
    const parts = this.graves.encode(this.keys, seg.id, seg.size);
    const tombstones = parts.length;
    const off = seg.size + tombstones * HEADER_LEN;
    const nonce = this.nonce();
    const header = encodeHeader(this.keys, { kind, role, length: block.length, slot, nonce }, seg.id, off);
    parts.push(header, sealV2(routingKey, nonce, block), block.subarray(SEAL_LEN));
    appendRecord(seg, parts);
    this.wroteTombstones(seg, tombstones);
    this.commits.wrote(seg, HEADER_LEN + block.length);
    for (const [vk, v] of this.index(k, { role, size: block.length, seg: seg.id, off })) this.graves.owe(vk, kindOfSize(v.size));
    if (this.overDisk()) this.compact();
  }

  /** A fresh random nonce, from a pool refilled 4 KiB at a time (one system call per 256 records). */
  private nonce(): Uint8Array {
    if (this.nonceAt + NONCE_LEN > this.nonces.length) {
      this.nonces = randomBytes(NONCE_POOL);
      this.nonceAt = 0;
    }
    return this.nonces.subarray(this.nonceAt, (this.nonceAt += NONCE_LEN));
  }

  /**
   * Make a record its slot's indexed one and keep the segments' counts right. The slot's previous
   * record, if any, becomes garbage (this later one cancels it at the next scan). Returns what the
   * role's budget evicted: garbage too, and the caller's to bury with tombstones.
   */
  private index(k: string, e: Entry): Array<[string, Entry]> {
    const old = this.lru.remove(k);
    if (old) this.unlive(k, old, true);
    const evicted = this.lru.set(k, e);
    for (const [vk, v] of evicted) this.unlive(vk, v, true);
    const seg = this.segs.get(e.seg)!;
    seg.live += HEADER_LEN + e.size;
    seg.keys.add(k);
    return evicted;
  }

  /** Take a slot out of the index for good: its record becomes garbage, and a tombstone keeps it out after a restart. */
  private evict(k: string, e: Entry): void {
    this.lru.remove(k);
    this.unlive(k, e, true);
    this.graves.owe(k, kindOfSize(e.size));
  }

  /** A record stops being live; `garbage` if its bytes stay in the files. */
  private unlive(k: string, e: Entry, garbage: boolean): void {
    const seg = this.segs.get(e.seg);
    if (!seg) return;
    seg.live -= HEADER_LEN + e.size;
    seg.keys.delete(k);
    if (garbage) this.graves.died(k);
  }

  /** The owed tombstones, `n` of them, were just written to a segment: each counts as live until compaction drops it. */
  private wroteTombstones(seg: Segment, n: number): void {
    if (n === 0) return;
    this.graves.paid();
    seg.live += n * HEADER_LEN;
    seg.tombstones += n;
    this.commits.wrote(seg, n * HEADER_LEN);
  }

  /** Write the owed tombstones now (before a sync, a compaction, a close). */
  private writePending(): void {
    if (this.graves.owed === 0) return;
    if (this.active.size >= this.segmentBytes) this.roll();
    const seg = this.active;
    const parts = this.graves.encode(this.keys, seg.id, seg.size);
    appendRecord(seg, [Buffer.concat(parts)]); // one part: there may be more than a writev takes
    this.wroteTombstones(seg, parts.length);
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

  /** The header at a position of a segment (MAC checked), or null. */
  private headerAt(seg: Segment, off: number): RecordHeader | null {
    const raw = readAt(seg.fd, off, HEADER_LEN, this.headerScratch);
    return raw ? decodeHeader(this.keys, raw, seg.id, off) : null;
  }

  /**
   * While the files are over maxBytes, retire the sealed segment with the fewest live bytes: walk
   * its records, copying the live ones to the active segment (byte for byte, header re-bound to
   * the new position) and noting its garbage and tombstones; carry forward the tombstones still
   * needed, make the copies durable, then delete it. A crash in between leaves both copies; the
   * scan at open keeps the later one.
   */
  private compact(): void {
    this.writePending(); // the victim's garbage may be what they bury
    for (let round = this.segs.size + 2; round > 0 && this.overDisk(); round--) {
      let victim: Segment | undefined;
      for (const s of this.segs.values()) if (s !== this.active && (!victim || s.live < victim.live)) victim = s;
      if (!victim) return;
      const garbage: string[] = [];
      const tombstones = new Map<string, BlockKind>();
      for (let off = 0, end = victim.size; off + HEADER_LEN <= end; ) {
        const h = this.headerAt(victim, off);
        if (!h) break; // garbled mid-segment (bit rot): its garbage past here stays counted, which only keeps tombstones longer
        const k = keyOf(h.slot);
        const e = h.type === 'block' ? this.lru.get(k) : undefined;
        if (h.type === 'tombstone') tombstones.set(k, h.kind);
        else if (e && e.seg === victim.id && e.off === off) this.moveForward(k, e, victim, this.headerScratch, tombstones);
        else garbage.push(k);
        off += HEADER_LEN + h.length;
      }
      for (const k of [...victim.keys]) this.moveForward(k, this.lru.get(k)!, victim, null, tombstones); // live records past a garbled header
      for (const k of garbage) this.graves.buried(k);
      // A tombstone moves forward while its slot is out of the index and has garbage elsewhere.
      // (If the slot is indexed again, its live record is later than every record it cancelled.)
      for (const [k, kind] of tombstones) if (!this.lru.get(k) && this.graves.hasGarbage(k)) this.graves.owe(k, kind);
      this.flush(); // writes them too
      fs.closeSync(victim.fd);
      fs.unlinkSync(segmentPath(this.dir, victim.id));
      this.segs.delete(victim.id);
      this.commits.forget(victim);
      syncDir(this.dir);
      this.compactions++;
    }
  }

  /**
   * Copy a live record from the victim to the end of the active segment. `header` is its header
   * if the caller already read and checked it. A record that cannot be read is dropped (corrupt);
   * its slot's older records, if any, get a tombstone (in `tombstones`).
   */
  private moveForward(k: string, e: Entry, victim: Segment, header: Uint8Array | null, tombstones: Map<string, BlockKind>): void {
    let raw: Uint8Array | null;
    if (header) {
      raw = Buffer.allocUnsafeSlow(HEADER_LEN + e.size);
      raw.set(header, 0);
      if (!readAt(victim.fd, e.off + HEADER_LEN, e.size, raw.subarray(HEADER_LEN))) raw = null;
    } else {
      raw = readAt(victim.fd, e.off, HEADER_LEN + e.size);
      if (raw && !decodeHeader(this.keys, raw, victim.id, e.off)) raw = null;
    }
    this.unlive(k, e, false); // its bytes go with the victim
    if (!raw) {
      this.lru.remove(k);
      this.corrupt++;
      tombstones.set(k, kindOfSize(e.size));
      return;
    }
    if (this.active.size >= this.segmentBytes) this.roll();
    rebindHeader(this.keys, raw, this.active.id, this.active.size);
    e.seg = this.active.id;
    e.off = appendRecord(this.active, [raw]);
    this.active.live += raw.length;
    this.active.keys.add(k);
    this.commits.wrote(this.active, raw.length);
  }

  /**
   * Rebuild the index from one segment, in log order: a block record becomes its slot's indexed
   * one, a tombstone takes its slot out. A record too big for its role's budget is garbage, and
   * its slot goes in `cut`, to be buried after the scan. Truncate a torn or garbled tail.
   */
  private scan(id: number, cut: Map<string, BlockKind>): void {
    const seg = openSegment(this.dir, id, false);
    this.segs.set(id, seg);
    const size = fileSize(seg.fd);
    let off = 0;
    while (off + HEADER_LEN <= size) {
      const h = this.headerAt(seg, off);
      if (!h || off + HEADER_LEN + h.length > size) break;
      seg.size = off + HEADER_LEN + h.length;
      const k = keyOf(h.slot);
      if (h.type === 'tombstone') {
        seg.live += HEADER_LEN;
        seg.tombstones++;
        const e = this.lru.remove(k);
        if (e) this.unlive(k, e, true);
        cut.delete(k); // already buried
      } else {
        const old = this.lru.remove(k); // cancelled by this later record
        if (old) this.unlive(k, old, true);
        if (this.lru.fits(h.role, h.length)) {
          this.lru.add(k, { role: h.role, size: h.length, seg: id, off }); // budgets are enforced after the whole log is read
          seg.live += HEADER_LEN + h.length;
          seg.keys.add(k);
          cut.delete(k);
        } else {
          // Too big for its role now (the budgets shrank): garbage, and the slot's older records stay cancelled.
          this.graves.died(k);
          cut.set(k, h.kind);
        }
      }
      off = seg.size;
    }
    if (off < size) {
      fs.ftruncateSync(seg.fd, off);
      this.tornTails++;
    }
    seg.size = off;
  }
}
