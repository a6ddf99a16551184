// The node's on-disk datastore (DESIGN.md "Store"; issue 4): append-only segment files of sealed,
// salted records (node/datastore/record.ts, store/slots.ts) with an in-memory index rebuilt by
// scanning the segments at open (scan.ts). Synchronous, implementing store/block-store.ts for the
// sans-IO core. The state it shares with the scan and compaction (compaction.ts) is in state.ts.
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
// dominates, in one pass). borrow reads into one buffer the store keeps and lends the block for the
// length of a call: a fresh 32 KiB buffer per get costs more than the pread itself (its pages are
// cold), and a block served to a peer is copied into the reply at once anyway. The header's MAC,
// checked when the record was written or scanned, is not checked again (record.ts
// blockHeaderVersion says why that is safe).

import fs from 'node:fs';
import { chkVerifyInPlace } from '../../crypto/chk.ts';
import { randomBytes } from '../../crypto/random.ts';
import { sskNewer } from '../../crypto/ssk.ts';
import type { BlockKind, BlockStore, BlockStoreOptions, BlockStoreStats, PutOptions, StoreRole } from '../../store/block-store.ts';
import { blockLength, checkKindAndKey, verifyBlock } from '../../store/block-verify.ts';
import { NONCE_LEN, SaltedKeys, SEAL_LEN, sealKeyOf, sealPrefix, sealV2 } from '../../store/slots.ts';
import { RoleLru, roleBudgets } from '../../store/store-policy.ts';
import { compact } from './compaction.ts';
import { GroupCommit } from './group-commit.ts';
import { blockHeaderVersion, encodeHeader, HEADER_LEN, headerNonce } from './record.ts';
import { rebuildIndex } from './scan.ts';
import { appendRecord, listSegments, loadOrCreateSalt, readAt, segmentPath } from './segments.ts';
import { DatastoreState, type Entry, keyOf, kindOfSize } from './state.ts';

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

export function open(dir: string, opts: DatastoreOptions): Datastore {
  return new Datastore(dir, opts);
}

export class Datastore implements BlockStore {
  private readonly s: DatastoreState;
  private nonces: Uint8Array = new Uint8Array(0);
  private nonceAt = 0;
  private closed = false;
  private readBuf: Uint8Array | null = null; // what borrow reads into and lends (a whole record fits)
  private headerOut: Uint8Array | null = null; // a block record's header, between encoding and its (synchronous) write
  private lending = false;

  constructor(readonly dir: string, opts: DatastoreOptions) {
    const lru = new RoleLru<Entry>(roleBudgets(Math.floor(opts.maxBytes * LIVE_FRACTION), opts.storeFraction));
    const segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT, Math.max(MIN_SEGMENT, Math.floor(opts.maxBytes / 16)));
    const commits = new GroupCommit(opts.syncBytes ?? 64 * 2 ** 20, opts.syncMs ?? 1000);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { salt, created } = loadOrCreateSalt(dir);
    const s = (this.s = new DatastoreState(dir, new SaltedKeys(salt), lru, commits, opts.maxBytes, segmentBytes));
    const ids = listSegments(dir);
    if (created) for (const id of ids) fs.unlinkSync(segmentPath(dir, id)); // sealed under a lost salt: unreadable
    else rebuildIndex(s, ids);
    const last = created ? undefined : s.segs.get(ids[ids.length - 1]);
    s.active = last && last.size < segmentBytes ? last : s.newSegment((ids[ids.length - 1] ?? 0) + 1);
    s.writePending();
    compact(s);
  }

  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    return this.find(kind, routingKey, undefined);
  }

  borrow<T>(kind: BlockKind, routingKey: Uint8Array, use: (block: Uint8Array) => T): T | undefined {
    if (this.lending) {
      const own = this.get(kind, routingKey); // a borrow inside a borrow: the read buffer is taken
      return own === undefined ? undefined : use(own);
    }
    this.readBuf ??= Buffer.allocUnsafeSlow(HEADER_LEN + Math.max(blockLength('CHK'), blockLength('SSK')));
    const block = this.find(kind, routingKey, this.readBuf);
    if (block === undefined) return undefined;
    this.lending = true;
    try {
      return use(block);
    } finally {
      this.lending = false;
    }
  }

  has(kind: BlockKind, routingKey: Uint8Array): boolean {
    this.check(kind, routingKey);
    return this.s.lru.get(keyOf(this.s.keys.slot(kind, routingKey))) !== undefined;
  }

  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole, opts: PutOptions = {}): boolean {
    this.check(kind, routingKey);
    if (role !== 'store' && role !== 'cache') throw new TypeError(`block store: unknown role ${String(role)}`);
    if (opts.verified !== true && !verifyBlock(kind, routingKey, block)) return false;
    const slot = this.s.keys.slot(kind, routingKey);
    const k = keyOf(slot);
    const e = this.s.lru.get(k);
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
        this.s.lru.touch(k);
        return true;
      }
      if (!same && e.role === 'store') role = 'store'; // a newer version keeps its role; never demoted
    }
    if (!this.s.lru.fits(role, block.length)) return false;
    this.append(k, slot, kind, role, routingKey, block);
    return true;
  }

  stats(): DatastoreStats {
    let diskBytes = 0, tombstones = 0;
    for (const seg of this.s.segs.values()) {
      diskBytes += seg.size;
      tombstones += seg.tombstones;
    }
    return {
      store: this.s.lru.stats('store'),
      cache: this.s.lru.stats('cache'),
      evictions: this.s.lru.evictions,
      corrupt: this.s.corrupt,
      diskBytes,
      segments: this.s.segs.size,
      tombstones,
      tornTails: this.s.tornTails,
      compactions: this.s.compactions,
    };
  }

  flush(): void {
    if (this.closed) return;
    this.s.flush();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    for (const seg of this.s.segs.values()) fs.closeSync(seg.fd);
    this.s.segs.clear();
    this.closed = true;
  }

  // --- internals ---

  /** get and borrow: the verified block, read into `into` (the read buffer) or a fresh buffer. */
  private find(kind: BlockKind, routingKey: Uint8Array, into: Uint8Array | undefined): Uint8Array | undefined {
    this.check(kind, routingKey);
    const slot = this.s.keys.slot(kind, routingKey);
    const k = keyOf(slot);
    const e = this.s.lru.get(k);
    if (!e) return undefined;
    const block = this.readVerified(k, slot, e, kind, routingKey, into);
    if (block) this.s.lru.touch(k);
    return block;
  }

  private check(kind: BlockKind, routingKey: Uint8Array): void {
    if (this.closed) throw new Error('datastore: closed');
    checkKindAndKey(kind, routingKey);
  }

  /**
   * Read a record (header and block in one pread, into the buffer the block is returned in),
   * unseal and verify it; evict it (counted as corrupt) if anything is wrong.
   */
  private readVerified(k: string, slot: Uint8Array, e: Entry, kind: BlockKind, routingKey: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    const seg = this.s.segs.get(e.seg);
    const raw = seg ? readAt(seg.fd, e.off, HEADER_LEN + e.size, into) : null;
    const version = raw ? blockHeaderVersion(raw, kind, e.size, slot) : 0;
    if (raw && version) {
      const block = new Uint8Array(raw.buffer, raw.byteOffset + HEADER_LEN, e.size);
      const nonce = headerNonce(raw);
      if (version === 2) sealV2(routingKey, nonce, block, block);
      else block.set(sealPrefix(sealKeyOf(this.s.keys.salt, kind, routingKey), nonce, block), 0);
      // A CHK is hashed in place: the label goes over the header bytes just before the block (used by now).
      if (kind === 'CHK' ? chkVerifyInPlace(routingKey, block) : verifyBlock(kind, routingKey, block)) return block;
    }
    this.s.corrupt++;
    this.evict(k, e);
    return undefined;
  }

  /** Append a block record (after any owed tombstones, in the same write), index it, compact if over the bound. */
  private append(k: string, slot: Uint8Array, kind: BlockKind, role: StoreRole, routingKey: Uint8Array, block: Uint8Array): void {
    if (this.s.active.size >= this.s.segmentBytes) this.s.roll();
    if (this.s.graves.owed > 64) this.s.writePending(); // keep one writev's parts few
    const seg = this.s.active;
    const parts = this.s.graves.encode(this.s.keys, seg.id, seg.size);
    const tombstones = parts.length;
    const off = seg.size + tombstones * HEADER_LEN;
    const nonce = this.nonce();
    this.headerOut ??= new Uint8Array(HEADER_LEN);
    const header = encodeHeader(this.s.keys, { kind, role, length: block.length, slot, nonce }, seg.id, off, this.headerOut); // written out just below
    parts.push(header, sealV2(routingKey, nonce, block), block.subarray(SEAL_LEN));
    appendRecord(seg, parts); // synchronous: the header scratch is free again after it
    this.s.wroteTombstones(seg, tombstones);
    this.s.commits.wrote(seg, HEADER_LEN + block.length);
    for (const [vk, v] of this.index(k, { role, size: block.length, seg: seg.id, off })) this.s.graves.owe(vk, kindOfSize(v.size));
    if (this.s.overDisk()) compact(this.s);
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
    const old = this.s.lru.remove(k);
    if (old) this.s.unlive(k, old, true);
    const evicted = this.s.lru.set(k, e);
    for (const [vk, v] of evicted) this.s.unlive(vk, v, true);
    const seg = this.s.segs.get(e.seg)!;
    seg.live += HEADER_LEN + e.size;
    seg.keys.add(k);
    return evicted;
  }

  /** Take a slot out of the index for good: its record becomes garbage, and a tombstone keeps it out after a restart. */
  private evict(k: string, e: Entry): void {
    this.s.lru.remove(k);
    this.s.unlive(k, e, true);
    this.s.graves.owe(k, kindOfSize(e.size));
  }
}
