// The routing table: Kademlia k-buckets (Maymounkov and Mazieres 2002, §2.2-2.4) over the XOR key
// space. Bucket i holds up to K peers whose id shares exactly i leading bits with ours; each bucket
// keeps a few replacements (newest first) that take an evicted entry's place. Entries hold the
// peer's checked descriptor (shared, never copied) and its liveness: when last heard from, and
// consecutive failures (timeouts); a peer is evicted after `maxFailures` in a row. Bad blocks (a
// block that failed verification) count apart and are never forgiven: after `maxBadBlocks` the peer
// is evicted and its id refused for good (a bounded list, oldest forgotten first).
//
// closest(key, n) walks buckets in XOR order instead of sorting the whole table: with j the common
// prefix of our id and the key, bucket j holds the peers closest to the key, then the buckets
// deeper than j (they share j bits with the key), then buckets j-1, j-2, ..., 0.
// Pure bookkeeping: no I/O, no clock (callers pass `now`).

import { ROUTING_BANNED_MAX, ROUTING_K, ROUTING_MAX_BAD_BLOCKS, ROUTING_MAX_FAILURES, ROUTING_REPLACEMENTS } from './constants.ts';
import { toHex } from '../crypto/bytes.ts';
import type { NodeDescriptor } from './descriptor.ts';
import { commonPrefixLength, compareDistance, idEquals, KEY_BITS, type NodeId } from './keyspace.ts';

export interface PeerEntry {
  desc: NodeDescriptor;
  lastSeen: number;
  failures: number;
  badBlocks: number;
}

export interface TableOptions {
  k?: number;
  replacements?: number;
  maxFailures?: number;
  maxBadBlocks?: number;
}

export type OfferResult =
  | { status: 'self' | 'added' | 'updated' | 'kept' | 'banned' }
  | { status: 'replaced'; evicted: PeerEntry } // took the place of a failing entry
  | { status: 'cached'; oldest: PeerEntry }; // bucket full: kept as a replacement; `oldest` may deserve a ping

interface Bucket {
  entries: PeerEntry[];
  replacements: NodeDescriptor[];
  refreshedAt: number;
}

export class RoutingTable {
  readonly self: NodeId;
  readonly k: number;
  readonly maxReplacements: number;
  readonly maxFailures: number;
  readonly maxBadBlocks: number;
  private readonly banned = new Set<string>(); // hex ids, insertion order = age
  private readonly buckets: (Bucket | undefined)[] = [];
  private count = 0;

  constructor(self: NodeId, opts: TableOptions = {}) {
    this.self = self;
    this.k = opts.k ?? ROUTING_K;
    this.maxReplacements = opts.replacements ?? ROUTING_REPLACEMENTS;
    this.maxFailures = opts.maxFailures ?? ROUTING_MAX_FAILURES;
    this.maxBadBlocks = opts.maxBadBlocks ?? ROUTING_MAX_BAD_BLOCKS;
    if (!(this.k >= 1 && this.maxReplacements >= 0 && this.maxFailures >= 1 && this.maxBadBlocks >= 1)) throw new RangeError('RoutingTable: bad options');
  }

  get size(): number {
    return this.count;
  }

  /** Index of the bucket an id belongs to (its common prefix length with us); 256 for ourselves. */
  bucketIndex(id: NodeId): number {
    return commonPrefixLength(this.self, id);
  }

  /** One past the deepest bucket that has ever held anything. */
  get depth(): number {
    return this.buckets.length;
  }

  bucketSize(i: number): number {
    return this.buckets[i]?.entries.length ?? 0;
  }

  bucketEntries(i: number): readonly PeerEntry[] {
    return this.buckets[i]?.entries ?? [];
  }

  bucketRefreshedAt(i: number): number {
    return this.buckets[i]?.refreshedAt ?? -Infinity;
  }

  /** Records that bucket i was just refreshed (a lookup into its range ran). */
  touch(i: number, now: number): void {
    this.bucket(i).refreshedAt = now;
  }

  get(id: NodeId): PeerEntry | undefined {
    const b = this.buckets[this.bucketIndex(id)];
    if (b === undefined) return undefined;
    for (const e of b.entries) if (idEquals(e.desc.id, id)) return e;
    return undefined;
  }

  *entries(): IterableIterator<PeerEntry> {
    for (const b of this.buckets) if (b !== undefined) yield* b.entries;
  }

  /**
   * Offers a checked descriptor. A known peer's descriptor is replaced by a newer one; a new peer
   * joins its bucket if there is room, else takes the place of an entry that has failed, else
   * waits among the replacements. A newly added peer counts as seen at `now`.
   */
  offer(desc: NodeDescriptor, now: number): OfferResult {
    const i = this.bucketIndex(desc.id);
    if (i >= KEY_BITS) return { status: 'self' };
    if (this.banned.size > 0 && this.banned.has(toHex(desc.id))) return { status: 'banned' };
    const b = this.bucket(i);
    for (const e of b.entries) {
      if (idEquals(e.desc.id, desc.id)) {
        if (desc.timestamp > e.desc.timestamp) {
          e.desc = desc;
          return { status: 'updated' };
        }
        return { status: 'kept' };
      }
    }
    if (b.entries.length < this.k) {
      b.entries.push({ desc, lastSeen: now, failures: 0, badBlocks: 0 });
      this.count++;
      return { status: 'added' };
    }
    let worst: PeerEntry | undefined;
    let oldest = b.entries[0];
    for (const e of b.entries) {
      if (e.failures > 0 && (worst === undefined || e.failures > worst.failures)) worst = e;
      if (e.lastSeen < oldest.lastSeen) oldest = e;
    }
    if (worst !== undefined) {
      b.entries[b.entries.indexOf(worst)] = { desc, lastSeen: now, failures: 0, badBlocks: 0 };
      return { status: 'replaced', evicted: worst };
    }
    this.remember(b, desc);
    return { status: 'cached', oldest };
  }

  /** A message arrived from this peer: it is alive. */
  markSeen(id: NodeId, now: number): PeerEntry | undefined {
    const e = this.get(id);
    if (e !== undefined) {
      e.lastSeen = now;
      e.failures = 0;
    }
    return e;
  }

  /** A request to this peer timed out. Returns true when that evicted it. */
  markFailed(id: NodeId): boolean {
    const e = this.get(id);
    if (e === undefined) return false;
    e.failures++;
    if (e.failures < this.maxFailures) return false;
    this.remove(id);
    return true;
  }

  /** This peer sent a block that failed verification. Returns true when that evicted (and banned) it. */
  markBadBlock(id: NodeId): boolean {
    const e = this.get(id);
    if (e === undefined) return false;
    e.badBlocks++;
    if (e.badBlocks < this.maxBadBlocks) return false;
    this.remove(id);
    const hex = toHex(id);
    this.banned.delete(hex);
    this.banned.add(hex);
    if (this.banned.size > ROUTING_BANNED_MAX) this.banned.delete(this.banned.values().next().value!);
    return true;
  }

  isBanned(id: NodeId): boolean {
    return this.banned.has(toHex(id));
  }

  /** How many peers are banned now (for bad blocks), oldest forgotten past ROUTING_BANNED_MAX. */
  get bannedCount(): number {
    return this.banned.size;
  }

  /** Removes a peer; the newest replacement of its bucket, if any, takes its place. */
  remove(id: NodeId): boolean {
    const b = this.buckets[this.bucketIndex(id)];
    if (b === undefined) return false;
    const at = b.entries.findIndex((e) => idEquals(e.desc.id, id));
    if (at < 0) {
      const r = b.replacements.findIndex((d) => idEquals(d.id, id));
      if (r >= 0) b.replacements.splice(r, 1);
      return false;
    }
    const promoted = b.replacements.shift();
    if (promoted !== undefined) {
      // a replacement has not been heard from directly: it starts as never seen
      b.entries[at] = { desc: promoted, lastSeen: -Infinity, failures: 0, badBlocks: 0 };
    } else {
      b.entries.splice(at, 1);
      this.count--;
    }
    return true;
  }

  /**
   * Up to n entries closest to key, closest first, skipping those `accept` refuses. Walks buckets
   * in XOR order and sorts only the buckets it takes from.
   */
  closest(key: NodeId, n: number, accept?: (e: PeerEntry) => boolean): PeerEntry[] {
    const out: PeerEntry[] = [];
    if (n <= 0) return out;
    const j = Math.min(this.bucketIndex(key), this.buckets.length);
    const take = (list: PeerEntry[]): void => {
      const ok = accept === undefined ? list.slice() : list.filter(accept);
      ok.sort((a, b) => compareDistance(a.desc.id, b.desc.id, key));
      for (const e of ok) {
        if (out.length >= n) return;
        out.push(e);
      }
    };
    if (j < this.buckets.length) take(this.buckets[j]?.entries ?? []);
    if (out.length < n) {
      const deeper: PeerEntry[] = [];
      for (let i = j + 1; i < this.buckets.length; i++) {
        const b = this.buckets[i];
        if (b !== undefined) for (const e of b.entries) deeper.push(e);
      }
      take(deeper);
    }
    for (let i = j - 1; i >= 0 && out.length < n; i--) take(this.buckets[i]?.entries ?? []);
    return out;
  }

  private bucket(i: number): Bucket {
    if (i < 0 || i >= KEY_BITS) throw new RangeError('RoutingTable: bucket index out of range');
    let b = this.buckets[i];
    if (b === undefined) {
      while (this.buckets.length < i) this.buckets.push(undefined);
      b = { entries: [], replacements: [], refreshedAt: -Infinity };
      this.buckets[i] = b;
    }
    return b;
  }

  private remember(b: Bucket, desc: NodeDescriptor): void {
    if (this.maxReplacements === 0) return;
    const at = b.replacements.findIndex((d) => idEquals(d.id, desc.id));
    if (at >= 0) b.replacements.splice(at, 1);
    b.replacements.unshift(desc);
    if (b.replacements.length > this.maxReplacements) b.replacements.pop();
  }
}
