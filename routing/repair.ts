// Block repair (re-replication), after Kademlia's republish (Maymounkov and Mazieres 2002, §2.5):
// the copies an insert made (routing/block-requests.ts PUT_BLOCK, policy.replicas of them) are topped up
// as their holders fail or closer nodes join. DESIGN.md layer 4 "Store": blocks live on the nodes
// closest to their key.
//
// Every repairIntervalMs (±10 % jitter, the first round at a random phase, so nodes never run in
// step) a node walks the keys it holds, repairKeysPerStep at a time, steps repairStepMs apart, at
// most repairMaxQueries HAVE queries in flight (bounded work per tick). For each key it takes the
// policy.replicas closest live nodes it knows, itself included (live: no failure since last heard
// from, no bad block), and asks the others with HAVE (keys batched per peer, HAVE_MAX_KEYS per
// message) whether they store it; a peer's HAVE_REPLY lists the ones it lacks, and each of those
// gets a STORE_BLOCK copy (a fresh request id, htl 1, as the insert's replicas). So a round costs
// one HAVE and one HAVE_REPLY per neighbour involved while all holders live, and blocks move only
// where one is missing (no re-send storm).
// - A HAVE with no answer within ackTimeoutMs counts against the peer (table.markFailed, evicted
//   after ROUTING_MAX_FAILURES) and the keys it carried are asked of the next closest live node, at
//   most replicas + REPAIR_EXTRA_ASKS peers per key and round.
// - A node that holds a key without being among its closest any more hands it over: once all of
//   them have answered that they store it, the key goes dormant in its index (skipped by the walk,
//   not revived by a HAVE about it, forgotten when the store drops the block or the index is full;
//   the copy itself stays in the 'store' role, as BlockStore has no demotion).
// - 'cache'-role copies (relaying hops) take part too, so a block whose every 'store' holder died at
//   once can come back from a copy cached on its insert path: a cached key is asked of the single
//   closest live node only, and only if that one lacks it are the others asked (escalation); a
//   cacher that finds itself among the closest promotes its copy to the 'store' role.
// - Answering HAVE: a key held in any role counts as held and is promoted to 'store' (the asker
//   means "you are one of its closest"); the rest are listed as missing. Each peer has an allowance
//   of policy.haveKeysPerSec keys a second (token bucket); a HAVE beyond it is dropped unanswered.
// The index of keys is the router's own record of what it kept (bounded: repairMaxKeys 'store'
// keys, oldest forgotten first, repairCacheKeys 'cache' keys, least recently cached forgotten
// first); a key the store no longer has is dropped when the walk meets it. A store that can list
// its 'store'-role keys (StoreKeyLister) seeds the index, so a restarted node repairs what it held.
// Sans-IO: time is `now`, jitter and nonces come from the injected random source.

import type { BlockKind, BlockStore } from '../store/block-store.ts';
import { concat } from '../crypto/bytes.ts';
import { HAVE_MAX_KEYS, HAVE_TRACKED_PEERS, NONCE_LEN, ROUTE_ID_LEN } from './constants.ts';
import type { CoreContext } from './context.ts';
import { closer, idEquals, idHex, type NodeId } from './keyspace.ts';
import { BLOCK_KINDS, type HaveMsg, type HaveReplyMsg } from './messages.ts';

/** Peers asked about one key in one round beyond policy.replicas (after timeouts). */
export const REPAIR_EXTRA_ASKS = 4;

/** Optional: a store that can list the keys it holds in the 'store' role (to seed the index). */
export interface StoreKeyLister {
  storeKeys(): Iterable<{ kind: BlockKind; routingKey: Uint8Array }>;
}

export interface RepairStats {
  repairRounds: number; // walks started
  repairQueries: number; // HAVE sent
  repairCopies: number; // STORE_BLOCK copies sent
  repairHandoffs: number; // keys handed over to closer nodes and dropped from the index
  repairTimeouts: number; // HAVE without an answer
  haveServed: number; // HAVE answered
  haveDropped: number; // HAVE over its sender's allowance (policy.haveKeysPerSec), dropped unanswered
}

interface Entry {
  readonly kind: BlockKind;
  readonly key: Uint8Array;
  readonly hex: string;
  role: 'store' | 'cache';
  asked: string[] | null; // peers asked this round (null between rounds)
  pending: number; // our HAVE queries carrying this key, unanswered
  held: number; // peers that answered "stored" this round
  handoff: boolean; // we are not among its closest: drop it once they all store it
  escalated: boolean; // 'cache' role: the closest lacked it, the others are asked too
  dormant: boolean; // handed over: the walk skips it, a HAVE about it does not revive it
}

interface Query {
  peer: NodeId;
  entries: Entry[];
  deadline: number;
}

type Batches = Map<string, { peer: NodeId; entries: Entry[] }>;

const kindByte = (kind: BlockKind): number => BLOCK_KINDS[kind];
const entryHex = (kind: BlockKind, key: Uint8Array): string => kind + idHex(key);

export class Repair {
  private readonly stored = new Map<string, Entry>(); // insertion order = age
  private readonly cached = new Map<string, Entry>(); // insertion order = recency
  private readonly queries = new Map<string, Query>(); // by nonce
  private walk: Iterator<Entry> | null = null;
  private nextAt = Infinity; // next step of the walk, or the next round; Infinity: idle (nothing held)
  private readonly haveAllowance = new Map<string, { tokens: number; at: number }>(); // by peer; insertion order = last heard
  readonly stats: RepairStats = { repairRounds: 0, repairQueries: 0, repairCopies: 0, repairHandoffs: 0, repairTimeouts: 0, haveServed: 0, haveDropped: 0 };

  constructor(
    private readonly ctx: CoreContext,
    private readonly store: BlockStore | undefined,
    now: number,
  ) {
    const lister = store as Partial<StoreKeyLister> | undefined;
    if (typeof lister?.storeKeys === 'function') {
      for (const { kind, routingKey } of lister.storeKeys()) this.noteKept(kind, routingKey, 'store', now);
    }
  }

  /** Keys in the index, by role. */
  get indexed(): { store: number; cache: number } {
    return { store: this.stored.size, cache: this.cached.size };
  }

  get activeQueries(): number {
    return this.queries.size;
  }

  /** The router kept a block in this role: remember the key (bounded), start the rounds if idle. */
  noteKept(kind: BlockKind, key: Uint8Array, role: 'store' | 'cache', now: number): void {
    const p = this.ctx.policy;
    if (p.repairIntervalMs <= 0) return;
    const hex = entryHex(kind, key);
    if (role === 'store') {
      if (this.stored.has(hex)) return;
      const e = this.cached.get(hex);
      this.cached.delete(hex);
      if (e !== undefined) e.role = 'store';
      this.stored.set(hex, e ?? newEntry(kind, key, hex, 'store'));
      if (this.stored.size > p.repairMaxKeys) this.stored.delete(this.stored.keys().next().value!);
    } else {
      if (this.stored.has(hex) || p.repairCacheKeys <= 0) return;
      const e = this.cached.get(hex) ?? newEntry(kind, key, hex, 'cache');
      this.cached.delete(hex);
      this.cached.set(hex, e);
      if (this.cached.size > p.repairCacheKeys) this.cached.delete(this.cached.keys().next().value!);
    }
    if (this.nextAt === Infinity) {
      this.nextAt = now + p.repairIntervalMs * (0.1 + this.ctx.randomInt(256) / 256);
      this.ctx.wakeBy(this.nextAt);
    }
  }

  tick(now: number): void {
    for (const [k, q] of [...this.queries]) if (now >= q.deadline && this.queries.has(k)) this.timedOut(k, q, now);
    if (now >= this.nextAt) this.step(now);
  }

  nextDeadline(): number {
    let t = this.nextAt;
    for (const q of this.queries.values()) if (q.deadline < t) t = q.deadline;
    return t;
  }

  /** A peer asks which of these keys we store: promote what we hold to 'store', list the rest (within its allowance). */
  onHave(from: NodeId, m: HaveMsg, now: number): void {
    if (!this.allowHave(from, m.keys.length, now)) {
      this.stats.haveDropped++;
      return;
    }
    this.stats.haveServed++;
    const missing: number[] = [];
    m.keys.forEach((k, i) => {
      const kind: BlockKind = k[0] === BLOCK_KINDS.CHK ? 'CHK' : 'SSK';
      const key = k.subarray(1);
      if (this.store === undefined || !this.store.has(kind, key)) {
        missing.push(i);
        return;
      }
      if (this.stored.has(entryHex(kind, key))) return;
      const block = this.store.get(kind, key);
      if (block !== undefined && this.store.put(kind, key, block, 'store')) this.noteKept(kind, key, 'store', now);
      else missing.push(i);
    });
    this.ctx.send(from, { type: 'HAVE_REPLY', nonce: m.nonce, missing });
  }

  /**
   * Takes `keys` from the peer's HAVE allowance: a token bucket of policy.haveKeysPerSec keys a
   * second, holding twice that. Answering a key costs a lookup, and for a block held as 'cache' a
   * read and a rewrite (its promotion), so one peer cannot make us do that work without bound.
   */
  private allowHave(from: NodeId, keys: number, now: number): boolean {
    const rate = this.ctx.policy.haveKeysPerSec;
    const k = idHex(from);
    const b = this.haveAllowance.get(k) ?? { tokens: 2 * rate, at: now };
    this.haveAllowance.delete(k);
    this.haveAllowance.set(k, b); // most recently heard from last
    if (this.haveAllowance.size > HAVE_TRACKED_PEERS) this.haveAllowance.delete(this.haveAllowance.keys().next().value!);
    b.tokens = Math.min(2 * rate, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
    b.at = now;
    if (b.tokens < keys) return false;
    b.tokens -= keys;
    return true;
  }

  onHaveReply(from: NodeId, m: HaveReplyMsg, now: number): void {
    const k = idHex(m.nonce);
    const q = this.queries.get(k);
    if (q === undefined || !idEquals(q.peer, from)) return;
    if (m.missing.length > 0 && m.missing[m.missing.length - 1] >= q.entries.length) return; // not an answer to what we asked
    this.queries.delete(k);
    const batches: Batches = new Map();
    let j = 0;
    q.entries.forEach((e, i) => {
      e.pending--;
      if (j < m.missing.length && m.missing[j] === i) {
        j++;
        this.sendCopy(from, e);
        if (e.role === 'cache' && !e.escalated) {
          e.escalated = true;
          this.plan(e, batches, now);
        }
      } else e.held++;
    });
    this.flush(batches, q.entries, now);
  }

  /** One step of the walk: start a round if none is under way, plan up to repairKeysPerStep keys. */
  private step(now: number): void {
    const p = this.ctx.policy;
    if (this.walk === null) {
      if (this.stored.size + this.cached.size === 0) {
        this.nextAt = Infinity;
        return;
      }
      this.stats.repairRounds++;
      this.walk = chain(this.stored, this.cached);
    }
    const batches: Batches = new Map();
    const touched: Entry[] = [];
    let finished = false;
    for (let n = 0; n < p.repairKeysPerStep && this.queries.size + batches.size < p.repairMaxQueries; n++) {
      const r = this.walk.next();
      if (r.done === true) {
        finished = true;
        break;
      }
      const e = r.value;
      if (this.store === undefined || !this.store.has(e.kind, e.key)) {
        this.forget(e);
        continue;
      }
      if (e.dormant) continue;
      e.asked = [];
      e.held = 0;
      e.escalated = false;
      this.plan(e, batches, now);
      touched.push(e);
    }
    this.flush(batches, touched, now);
    if (finished) {
      this.walk = null;
      this.nextAt = now + p.repairIntervalMs * (0.9 + (0.2 * this.ctx.randomInt(256)) / 256);
    } else this.nextAt = now + p.repairStepMs;
    this.ctx.wakeBy(this.nextAt);
  }

  /** Adds to `batches` the closest live peers of this key not asked yet this round. */
  private plan(e: Entry, batches: Batches, now: number): void {
    const R = this.ctx.policy.replicas;
    const self = this.ctx.self.id;
    e.asked ??= [];
    const peers = this.ctx.table.closest(e.key, R, (x) => x.failures === 0 && x.badBlocks === 0);
    let rank = peers.findIndex((x) => closer(self, x.desc.id, e.key));
    if (rank < 0) rank = peers.length;
    const selfIn = rank < R;
    if (e.role === 'cache' && selfIn) this.promote(e);
    e.handoff = e.role === 'store' && !selfIn;
    const targets = peers.slice(0, selfIn ? R - 1 : R);
    const want = e.role === 'cache' && !e.escalated ? 1 : targets.length;
    for (const t of targets.slice(0, want)) {
      const hex = idHex(t.desc.id);
      if (e.asked.includes(hex)) continue;
      if (e.asked.length >= R + REPAIR_EXTRA_ASKS) return;
      e.asked.push(hex);
      let b = batches.get(hex);
      if (b === undefined) batches.set(hex, (b = { peer: t.desc.id, entries: [] }));
      b.entries.push(e);
      if (b.entries.length >= HAVE_MAX_KEYS) {
        this.sendQuery(b.peer, b.entries, now);
        batches.delete(hex);
      }
    }
  }

  /** Sends the planned queries, then closes the round of every touched key with nothing pending. */
  private flush(batches: Batches, touched: Entry[], now: number): void {
    for (const b of batches.values()) this.sendQuery(b.peer, b.entries, now);
    for (const e of touched) {
      if (e.pending > 0) continue;
      if (e.handoff && e.held >= this.ctx.policy.replicas && !e.dormant) {
        this.stats.repairHandoffs++;
        e.dormant = true;
      }
      e.asked = null;
    }
  }

  private sendQuery(peer: NodeId, entries: Entry[], now: number): void {
    const nonce = this.ctx.random(NONCE_LEN);
    this.queries.set(idHex(nonce), { peer, entries, deadline: now + this.ctx.policy.ackTimeoutMs });
    this.ctx.wakeBy(now + this.ctx.policy.ackTimeoutMs);
    for (const e of entries) e.pending++;
    this.stats.repairQueries++;
    this.ctx.send(peer, { type: 'HAVE', nonce, keys: entries.map((e) => concat(Uint8Array.of(kindByte(e.kind)), e.key)) });
  }

  private timedOut(k: string, q: Query, now: number): void {
    this.queries.delete(k);
    this.stats.repairTimeouts++;
    this.ctx.table.markFailed(q.peer);
    const batches: Batches = new Map();
    for (const e of q.entries) {
      e.pending--;
      if (e.asked !== null) this.plan(e, batches, now);
    }
    this.flush(batches, q.entries, now);
  }

  private sendCopy(to: NodeId, e: Entry): void {
    const block = this.store?.get(e.kind, e.key);
    if (block === undefined) return;
    this.stats.repairCopies++;
    const id = this.ctx.random(ROUTE_ID_LEN);
    this.ctx.send(to, { type: 'ROUTE', id, key: e.key, htl: 1, purpose: 'STORE_BLOCK', kind: e.kind, block });
  }

  /** A cached copy whose key we are among the closest to: keep it in the 'store' role. */
  private promote(e: Entry): void {
    const block = this.store?.get(e.kind, e.key);
    if (block === undefined || !this.store!.put(e.kind, e.key, block, 'store')) return;
    this.cached.delete(e.hex);
    e.role = 'store';
    this.stored.set(e.hex, e);
  }

  private forget(e: Entry): void {
    if (this.stored.get(e.hex) === e) this.stored.delete(e.hex);
    if (this.cached.get(e.hex) === e) this.cached.delete(e.hex);
  }
}

function newEntry(kind: BlockKind, key: Uint8Array, hex: string, role: 'store' | 'cache'): Entry {
  return { kind, key: key.slice(), hex, role, asked: null, pending: 0, held: 0, handoff: false, escalated: false, dormant: false };
}

/** The store-role entries then the cache-role ones (live iterators: later additions are seen). */
function* chain(a: Map<string, Entry>, b: Map<string, Entry>): Generator<Entry> {
  yield* a.values();
  yield* b.values();
}
