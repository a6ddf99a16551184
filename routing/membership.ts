// Membership: filling and keeping the routing table (DESIGN.md layer 3 "Membership: bootstrap
// contacts, peer exchange, bucket refresh, churn"), after Kademlia §2.3-2.5.
// - Peer exchange (PEX): a PEX_REQUEST asks a peer for the descriptors in its table closest to a
//   target; it carries our own descriptor, so the peers we ask learn of us. Membership lookups are
//   iterative (we ask peers directly, alpha at a time, nearest first) and touch no user traffic.
// - Join: take the bootstrap contacts, look up our own id (the `selfLookupWidth` closest nodes all
//   hear of us), then refresh every bucket with room, from bucket 0 to the bucket of the farthest
//   of those closest neighbours (deeper buckets hold only nodes closer than it, all found already).
// - Refresh: every maintenanceIntervalMs, a bucket with room (same range) that no lookup refreshed
//   for refreshIntervalMs gets a lookup for a random key in its range, `refreshAlpha` queries at a
//   time, stopping once the bucket is full; the self-lookup is redone every selfLookupIntervalMs.
// - Liveness: PING/PONG for peers silent for silentPingMs (a few per chore) and for the oldest
//   entry of a full bucket a newcomer wants into (Kademlia's preference for old live peers);
//   timeouts count against a peer and the table evicts it after ROUTING_MAX_FAILURES in a row.
// - Flood limits: a PEX response is accepted only from the peer we asked, for the nonce we sent,
//   with at most PEX_MAX descriptors (the decoder refuses more); a request's `self` must be the
//   sender's own descriptor; bad, stale or future descriptors are skipped; full buckets take
//   newcomers only in place of failing entries; PEX answers are rate-limited (token bucket).

import { DESCRIPTOR_MAX_AGE_MS, NONCE_LEN, PEX_MAX } from './constants.ts';
import type { CoreContext } from './context.ts';
import type { NodeDescriptor } from './descriptor.ts';
import { closer, compareDistance, idEquals, idHex, randomKeyAtPrefix, type NodeId } from './keyspace.ts';
import type { PexRequestMsg, PexResponseMsg, PingMsg, PongMsg } from './messages.ts';
import type { PeerEntry } from './table.ts';

const NEW = 0, PENDING = 1, DONE = 2, FAILED = 3;

interface Candidate {
  desc: NodeDescriptor;
  state: number;
}

interface PexLookup {
  target: Uint8Array;
  alpha: number; // queries in flight at most
  width: number; // done when the `width` closest live candidates have all answered
  bucket: number; // the bucket being refreshed, or -1 for a self-lookup
  list: Candidate[]; // closest first, bounded
  inflight: number;
}

interface PendingPex {
  peer: NodeId;
  lookup: PexLookup;
  cand: Candidate;
  deadline: number;
}

export interface MembershipStats {
  pexSent: number;
  pexServed: number;
  pexDropped: number;
  badDescriptors: number;
  pings: number;
}

export class Membership {
  private readonly lookups = new Set<PexLookup>();
  private readonly pending = new Map<string, PendingPex>();
  private readonly pings = new Map<string, { peer: NodeId; deadline: number }>();
  private readonly refreshing = new Set<number>();
  private contacts: Uint8Array[] = [];
  private joining = false;
  private lastSelfLookup = -Infinity;
  private nextChore: number;
  private tokens: number;
  private tokensAt: number;
  readonly stats: MembershipStats = { pexSent: 0, pexServed: 0, pexDropped: 0, badDescriptors: 0, pings: 0 };

  constructor(private readonly ctx: CoreContext, now: number) {
    this.nextChore = now + ctx.policy.maintenanceIntervalMs;
    this.tokens = 2 * ctx.policy.pexServePerSec;
    this.tokensAt = now;
  }

  /** Adds the contacts (descriptor bytes) and starts the join: self-lookup, then bucket refreshes. */
  bootstrap(contacts: readonly Uint8Array[], now: number): void {
    this.contacts = [...contacts];
    for (const b of contacts) this.learn(b, now);
    this.joining = true;
    this.selfLookup(now);
  }

  /** Reads a descriptor from a peer and offers it to the table; returns it, or undefined if bad. */
  learn(bytes: Uint8Array, now: number): NodeDescriptor | undefined {
    let d: NodeDescriptor;
    try {
      d = this.ctx.descriptors.read(bytes, now);
    } catch {
      this.stats.badDescriptors++;
      return undefined;
    }
    if (!idEquals(d.id, this.ctx.self.id)) this.admit(d, now);
    return d;
  }

  /** Offers a checked descriptor to the table; a full bucket's long-silent oldest entry gets a ping. */
  private admit(d: NodeDescriptor, now: number): void {
    const r = this.ctx.table.offer(d, now);
    if (r.status === 'cached' && now - r.oldest.lastSeen >= this.ctx.policy.silentPingMs) this.ping(r.oldest.desc.id, now);
  }

  onPexRequest(from: NodeId, m: PexRequestMsg, now: number): void {
    if (!this.takeToken(now)) {
      this.stats.pexDropped++;
      return;
    }
    if (m.self !== undefined) {
      let d: NodeDescriptor | undefined;
      try {
        d = this.ctx.descriptors.read(m.self, now);
      } catch {
        this.stats.badDescriptors++;
      }
      if (d !== undefined && idEquals(d.id, from)) this.admit(d, now);
      else if (d !== undefined) this.stats.badDescriptors++; // someone else's descriptor as its own
    }
    this.stats.pexServed++;
    const n = Math.min(m.max, PEX_MAX);
    const oldest = now - DESCRIPTOR_MAX_AGE_MS; // never pass on what the asker would refuse as stale
    const picked = this.ctx.table.closest(m.target, n, (e) => e.failures === 0 && e.desc.timestamp >= oldest && !idEquals(e.desc.id, from));
    const out = picked.map((e) => e.desc.bytes);
    // we are a candidate too: the asker may not know our newest descriptor
    const self = this.ctx.self;
    const at = picked.findIndex((e) => closer(self.id, e.desc.id, m.target));
    if (at >= 0) out.splice(at, 0, self.bytes);
    else if (out.length < n) out.push(self.bytes);
    if (out.length > n) out.length = n;
    this.ctx.send(from, { type: 'PEX_RESPONSE', nonce: m.nonce, descriptors: out });
  }

  onPexResponse(from: NodeId, m: PexResponseMsg, now: number): void {
    const k = idHex(m.nonce);
    const p = this.pending.get(k);
    if (p === undefined || !idEquals(p.peer, from)) return; // unsolicited: dropped
    this.pending.delete(k);
    const lu = p.lookup;
    const n = Math.min(m.descriptors.length, this.ctx.policy.pexAsk); // no more than we asked for
    for (let i = 0; i < n; i++) {
      const d = this.learn(m.descriptors[i], now);
      if (d !== undefined && !idEquals(d.id, this.ctx.self.id)) this.consider(lu, d);
    }
    p.cand.state = DONE;
    lu.inflight--;
    this.step(lu, now);
  }

  onPing(from: NodeId, m: PingMsg): void {
    this.ctx.send(from, { type: 'PONG', nonce: m.nonce });
  }

  onPong(from: NodeId, m: PongMsg): void {
    const k = idHex(m.nonce);
    const p = this.pings.get(k);
    if (p !== undefined && idEquals(p.peer, from)) this.pings.delete(k); // the caller marked it seen
  }

  /** The link to a peer dropped: its pending PEX and pings fail now. */
  peerDisconnected(peer: NodeId, now: number): void {
    for (const [k, p] of [...this.pending]) if (idEquals(p.peer, peer)) this.pexFailed(k, p, now);
    for (const [k, p] of [...this.pings]) if (idEquals(p.peer, peer)) this.pingFailed(k, p.peer);
  }

  tick(now: number): void {
    for (const [k, p] of [...this.pending]) if (now >= p.deadline) this.pexFailed(k, p, now);
    for (const [k, p] of [...this.pings]) if (now >= p.deadline) this.pingFailed(k, p.peer);
    if (now >= this.nextChore) {
      this.nextChore = now + this.ctx.policy.maintenanceIntervalMs;
      this.ctx.wakeBy(this.nextChore);
      this.chores(now);
    }
  }

  nextDeadline(): number {
    let t = this.nextChore;
    for (const p of this.pending.values()) if (p.deadline < t) t = p.deadline;
    for (const p of this.pings.values()) if (p.deadline < t) t = p.deadline;
    return t;
  }

  get activeLookups(): number {
    return this.lookups.size;
  }

  private chores(now: number): void {
    const table = this.ctx.table;
    const policy = this.ctx.policy;
    let alone = false;
    if (table.size === 0 && this.contacts.length > 0) {
      for (const b of this.contacts) this.learn(b, now); // alone again: start over from the contacts
      alone = true;
    }
    if (alone || now - this.lastSelfLookup >= policy.selfLookupIntervalMs) this.selfLookup(now);
    this.refreshBuckets(now, policy.refreshIntervalMs);
    let budget = policy.silentPingsPerChore;
    for (const e of table.entries()) {
      if (budget <= 0) break;
      if ((e.failures > 0 || now - e.lastSeen >= policy.silentPingMs) && this.ping(e.desc.id, now)) budget--;
    }
  }

  private selfLookup(now: number): void {
    this.lastSelfLookup = now;
    this.startLookup(this.ctx.self.id, this.ctx.policy.selfLookupWidth, -1, now);
  }

  /** Refreshes buckets with room, up to our neighbourhood's, not refreshed for `age` ms. */
  private refreshBuckets(now: number, age: number): void {
    const table = this.ctx.table;
    const width = this.ctx.policy.selfLookupWidth;
    const near = table.closest(this.ctx.self.id, width);
    const last = near.length < width ? table.depth - 1 : table.bucketIndex(near[near.length - 1].desc.id);
    for (let i = 0; i <= last; i++) {
      if (table.bucketSize(i) >= table.k || this.refreshing.has(i)) continue;
      if (now - table.bucketRefreshedAt(i) < age) continue;
      this.refreshing.add(i);
      table.touch(i, now);
      this.startLookup(randomKeyAtPrefix(this.ctx.self.id, i, this.ctx.random), this.ctx.policy.refreshWidth, i, now);
    }
  }

  private startLookup(target: Uint8Array, width: number, bucket: number, now: number): void {
    const alpha = bucket >= 0 ? this.ctx.policy.refreshAlpha : this.ctx.policy.alpha;
    const lu: PexLookup = { target, alpha, width, bucket, list: [], inflight: 0 };
    for (const e of this.ctx.table.closest(target, Math.max(width, this.ctx.policy.alpha) * 2, (e: PeerEntry) => e.failures === 0)) {
      lu.list.push({ desc: e.desc, state: NEW });
    }
    this.lookups.add(lu);
    this.step(lu, now);
  }

  /** Inserts a newly learnt descriptor into a lookup's candidate list (closest first, bounded). */
  private consider(lu: PexLookup, d: NodeDescriptor): void {
    const list = lu.list;
    const cap = Math.max(lu.width, this.ctx.policy.alpha) * 2;
    let at = list.length;
    for (let i = 0; i < list.length; i++) {
      const c = compareDistance(d.id, list[i].desc.id, lu.target);
      if (c === 0) return; // already there
      if (c < 0) {
        at = i;
        break;
      }
    }
    for (let i = at; i < list.length; i++) if (idEquals(list[i].desc.id, d.id)) return;
    if (at >= cap) return;
    list.splice(at, 0, { desc: d, state: NEW });
    if (list.length > cap) list.length = cap;
  }

  /** Sends queries up to alpha in flight; finishes the lookup when nothing is left to ask. */
  private step(lu: PexLookup, now: number): void {
    if (!this.lookups.has(lu)) return;
    const table = this.ctx.table;
    const bucketFull = lu.bucket >= 0 && table.bucketSize(lu.bucket) >= table.k;
    while (!bucketFull && lu.inflight < lu.alpha) {
      let seen = 0;
      let next: Candidate | undefined;
      for (const c of lu.list) {
        if (c.state === FAILED) continue;
        if (seen++ >= lu.width) break;
        if (c.state === NEW) {
          next = c;
          break;
        }
      }
      if (next === undefined) break;
      this.query(lu, next, now);
    }
    if (lu.inflight === 0) this.finishLookup(lu, now);
  }

  private query(lu: PexLookup, c: Candidate, now: number): void {
    c.state = PENDING;
    lu.inflight++;
    const nonce = this.ctx.random(NONCE_LEN);
    this.pending.set(idHex(nonce), { peer: c.desc.id, lookup: lu, cand: c, deadline: now + this.ctx.policy.pexTimeoutMs });
    this.ctx.wakeBy(now + this.ctx.policy.pexTimeoutMs);
    this.stats.pexSent++;
    this.ctx.send(c.desc.id, {
      type: 'PEX_REQUEST',
      nonce,
      target: lu.target,
      max: this.ctx.policy.pexAsk,
      self: this.ctx.policy.announce ? this.ctx.self.bytes : undefined,
    });
  }

  private finishLookup(lu: PexLookup, now: number): void {
    this.lookups.delete(lu);
    if (lu.bucket >= 0) {
      this.refreshing.delete(lu.bucket);
      this.ctx.table.touch(lu.bucket, now);
    } else if (this.joining) {
      // first self-lookup done: refresh every bucket with room now, whatever its age
      this.refreshBuckets(now, 0);
    }
    if (this.joining && this.lookups.size === 0) {
      this.joining = false;
      this.ctx.emit({ kind: 'joined', peers: this.ctx.table.size });
    }
  }

  private pexFailed(k: string, p: PendingPex, now: number): void {
    this.pending.delete(k);
    this.ctx.table.markFailed(p.peer);
    p.cand.state = FAILED;
    p.lookup.inflight--;
    this.step(p.lookup, now);
  }

  /** Pings a peer unless a ping to it is already out; returns whether one was sent. */
  private ping(peer: NodeId, now: number): boolean {
    for (const p of this.pings.values()) if (idEquals(p.peer, peer)) return false;
    const nonce = this.ctx.random(NONCE_LEN);
    this.pings.set(idHex(nonce), { peer, deadline: now + this.ctx.policy.pingTimeoutMs });
    this.ctx.wakeBy(now + this.ctx.policy.pingTimeoutMs);
    this.stats.pings++;
    this.ctx.send(peer, { type: 'PING', nonce });
    return true;
  }

  private pingFailed(k: string, peer: NodeId): void {
    this.pings.delete(k);
    this.ctx.table.markFailed(peer);
  }

  private takeToken(now: number): boolean {
    const rate = this.ctx.policy.pexServePerSec;
    this.tokens = Math.min(2 * rate, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
