// Blocks over the router (issue 4; DESIGN.md layer 4 and "The anonymous request"): what GET_BLOCK,
// PUT_BLOCK, STORE_BLOCK and PEEK_BLOCK do on top of the key routing of routing/router.ts, which
// calls in here on arrival, on answers and at the end of a route.
// - GET_BLOCK of a CHK: every hop that holds the block answers BLOCK_REPLY at once; otherwise it
//   forwards, and the node with no closer live peer answers REJECT NOT_FOUND, on which the
//   predecessor backtracks like after any refusal.
// - GET_BLOCK of an SSK (updatable: a newer version supersedes an older one): a copy met on the
//   way may be stale, so a hop holding one keeps it as the best so far and still forwards; the node
//   with no closer live peer asks its closest peers which version they hold (PEEK_BLOCK,
//   routing/fan-out.ts), and every hop answers with the newer of what came back and what it holds
//   (crypto/ssk.ts sskNewer). A branch that fails still answers with the best copy seen, if any.
// - Each hop verifies a returned block against the key (crypto/chk, crypto/ssk through
//   store/block-verify) before it caches ('cache' role) and forwards it; a bad block lowers the
//   sender's standing (table.markBadBlock: evicted and banned after ROUTING_MAX_BAD_BLOCKS) and the
//   hop backtracks to its next-best peer as for a failed branch.
// - PUT_BLOCK: every relaying hop verifies the block (a bad one is dropped in silence and counted
//   against the sender) and caches it as it forwards it; the node with no closer live peer stores
//   it ('store' role, written once, not cached first) and sends STORE_BLOCK replicas (fresh request
//   ids, not routed further) to its policy.replicas - 1 peers closest to the key (or `copies` - 1
//   when the insert asks for more), waits up to ackTimeoutMs for their PUT_REPLY, and answers
//   PUT_REPLY with the number of copies stored, which travels back along the path.
// - The originator (pred null: the user's own node now, a circuit's exit later) never writes what
//   it fetches or inserts to its own store, neither role; if it is itself the closest, it sends
//   policy.replicas replicas and keeps none (DESIGN.md: "The client's own requests never write to
//   its shared store"). Only relaying hops cache.
// - Repair (routing/repair.ts) learns every block kept here, in either role, and tops up the copies
//   as holders fail; a PUT_REPLY to one of its STORE_BLOCK copies matches no state and is ignored.

import { sskNewer } from '../crypto/ssk.ts';
import type { BlockKind, BlockStore } from '../store/block-store.ts';
import { verifyBlock } from '../store/block-verify.ts';
import { BLOCK_COPIES_MAX, ROUTE_ID_LEN } from './constants.ts';
import type { CoreContext } from './context.ts';
import { FanOuts } from './fan-out.ts';
import { idEquals, type NodeId } from './keyspace.ts';
import type { BlockReplyMsg, PutReplyMsg, RouteMsg } from './messages.ts';
import type { LookupFailure } from './outputs.ts';
import type { Repair } from './repair.ts';
import type { RequestState, RouterStats } from './request-state.ts';

/** What block handling needs from the router that owns the request states. */
export interface RouteOps {
  state(id: Uint8Array): RequestState | undefined;
  advance(s: RequestState, now: number): void;
  finish(s: RequestState): void;
  fail(s: RequestState, reason: LookupFailure, now: number): void;
  sendAccepted(s: RequestState): void;
}

export class BlockRequests {
  private readonly fanOuts = new FanOuts<RequestState>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly store: BlockStore | undefined,
    private readonly repair: Repair | undefined,
    private readonly stats: RouterStats,
    private readonly ops: RouteOps,
  ) {}

  /** A block we hold, for a GET_BLOCK arriving or starting here (reading our store writes nothing). */
  held(kind: BlockKind, key: Uint8Array): Uint8Array | undefined {
    return this.store?.get(kind, key);
  }

  /** Answers a GET_BLOCK from our store at once if we hold the block (lent by the store, copied into the reply). */
  serveHeld(from: NodeId, id: Uint8Array, kind: BlockKind, key: Uint8Array): boolean {
    const served = this.store?.borrow(kind, key, (block) => {
      this.ctx.send(from, { type: 'BLOCK_REPLY', id, hops: 0, block }); // encoded (copied) here, within the loan
      return true;
    });
    return served === true;
  }

  /** A one-hop ask (STORE_BLOCK or PEEK_BLOCK) from the end node of a route: answered, never routed on. */
  onOneHop(from: NodeId, m: RouteMsg, now: number): void {
    if (m.purpose === 'STORE_BLOCK') {
      if (!this.verified(from, m.kind!, m.key, m.block!)) return;
      const stored = this.keep(m.kind!, m.key, m.block!, 'store', now) ? 1 : 0;
      this.ctx.send(from, { type: 'PUT_REPLY', id: m.id, hops: 0, stored });
      return;
    }
    const held = this.held(m.kind!, m.key);
    if (held === undefined) this.ctx.send(from, { type: 'ROUTE_REJECT', id: m.id, reason: 'NOT_FOUND' });
    else this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held });
  }

  /** Whether an answer's id is one of our fan-out ids (then it is not a routed request's). */
  isFanOut(id: Uint8Array): boolean {
    return this.fanOuts.has(id);
  }

  onBlockReply(from: NodeId, m: BlockReplyMsg, now: number): void {
    if (this.fanOuts.has(m.id)) {
      this.onFanOutAnswer(from, m.id, m.block, now);
      return;
    }
    const s = this.ops.state(m.id);
    if (s === undefined || s.purpose !== 'GET_BLOCK' || !s.tried.some((p) => idEquals(p, from))) return;
    if (!this.verified(from, s.kind!, s.key, m.block)) {
      // a wrong block is a failed branch: drop it and try the next-best peer
      if (s.attempt !== null && idEquals(s.attempt.peer, from)) {
        s.attempt = null;
        this.ops.advance(s, now);
      }
      return;
    }
    const block = s.best === undefined ? m.block : sskNewer(s.best, m.block);
    this.answerBlock(s, block, Math.min(m.hops + 1, 255), now);
  }

  onPutReply(from: NodeId, m: PutReplyMsg): void {
    if (this.fanOuts.has(m.id)) {
      const parent = this.fanOuts.answer(m.id, from);
      if (parent === undefined || parent.purpose !== 'PUT_BLOCK') return;
      if (m.stored > 0) parent.stored++;
      if (parent.fanout!.pending <= 0) this.putDone(parent);
      return;
    }
    const s = this.ops.state(m.id);
    if (s === undefined || s.purpose !== 'PUT_BLOCK' || s.fanout !== null || !s.tried.some((p) => idEquals(p, from))) return;
    const hops = Math.min(m.hops + 1, 255);
    this.ops.finish(s);
    if (s.pred !== null) this.ctx.send(s.pred, { type: 'PUT_REPLY', id: s.id, hops, stored: m.stored });
    else this.ctx.emit({ kind: 'insertDone', requestId: s.id, result: { ok: true, stored: m.stored, hops } });
  }

  /** A fan-out peer refused (PEEK_BLOCK: it holds no copy). */
  onFanOutReject(from: NodeId, id: Uint8Array, now: number): void {
    this.onFanOutAnswer(from, id, undefined, now);
  }

  /** A PUT_BLOCK we relay: a hop caches the block as it passes it on (the end node stores it instead). */
  forwarding(s: RequestState, now: number): void {
    if (s.purpose === 'PUT_BLOCK' && s.pred !== null && s.tried.length === 0) this.keep(s.kind!, s.key, s.block!, 'cache', now);
  }

  /** We are the closest live node we know of for a block request: end it here. */
  endHere(s: RequestState, now: number): void {
    if (s.purpose === 'PUT_BLOCK') this.storeHere(s, now);
    else if (s.kind === 'SSK') this.fanOut(s, 'PEEK_BLOCK', now);
    else {
      this.stats.blocksNotFound++;
      this.ops.fail(s, 'NOT_FOUND', now); // we would have answered on arrival if we held it
    }
  }

  /** Ends a GET_BLOCK with a verified block: cache it if we relay, and send it back. */
  answerBlock(s: RequestState, block: Uint8Array, hops: number, now: number): void {
    this.ops.finish(s);
    if (s.pred !== null) {
      this.keep(s.kind!, s.key, block, 'cache', now);
      this.ctx.send(s.pred, { type: 'BLOCK_REPLY', id: s.id, hops, block });
    } else {
      this.ctx.emit({ kind: 'fetchDone', requestId: s.id, result: { ok: true, block, hops } });
    }
  }

  /** The fan-out of a request whose deadline passed: the silent peers count as failures. */
  fanOutTimedOut(s: RequestState, now: number): void {
    for (const peer of this.fanOuts.end(s)) {
      this.stats.timeouts++;
      this.ctx.table.markFailed(peer);
    }
    if (s.purpose === 'PUT_BLOCK') this.putDone(s);
    else this.peekDone(s, now);
  }

  /** A request finished: forget its fan-out waits. */
  ended(s: RequestState): void {
    this.fanOuts.end(s);
  }

  /** Verifies a block from a peer; a bad one is counted against the peer's standing. */
  verified(from: NodeId, kind: BlockKind, key: Uint8Array, block: Uint8Array): boolean {
    if (verifyBlock(kind, key, block) !== null) return true;
    this.stats.badBlocks++;
    this.ctx.table.markBadBlock(from);
    return false;
  }

  /** The end of an insert's route: store here (unless we originated it), replicate, then answer. */
  private storeHere(s: RequestState, now: number): void {
    s.stored = s.pred !== null && this.keep(s.kind!, s.key, s.block!, 'store', now) ? 1 : 0;
    this.fanOut(s, 'STORE_BLOCK', now);
  }

  /**
   * Asks the peers closest to the key besides us, each under a fresh id (so they cannot link it
   * to the route): STORE_BLOCK replicas of an insert, or PEEK_BLOCK for their SSK version.
   */
  private fanOut(s: RequestState, purpose: 'STORE_BLOCK' | 'PEEK_BLOCK', now: number): void {
    const copies = purpose === 'STORE_BLOCK' ? Math.min(s.copies ?? this.ctx.policy.replicas, BLOCK_COPIES_MAX) : this.ctx.policy.replicas;
    const want = Math.max(0, copies - (s.pred === null ? 0 : 1));
    const peers = this.ctx.table.closest(s.key, want, (e) => e.failures === 0 && e.badBlocks === 0).map((e) => e.desc.id);
    if (peers.length === 0) {
      if (purpose === 'STORE_BLOCK') this.putDone(s);
      else this.peekDone(s, now);
      return;
    }
    this.ops.sendAccepted(s); // the predecessor's short ack timeout must not fire while they answer
    const ids = peers.map(() => this.ctx.random(ROUTE_ID_LEN));
    this.fanOuts.begin(s, peers, ids, now + this.ctx.policy.ackTimeoutMs);
    this.ctx.wakeBy(now + this.ctx.policy.ackTimeoutMs);
    const block = purpose === 'STORE_BLOCK' ? s.block : undefined;
    for (let i = 0; i < peers.length; i++) {
      this.ctx.send(peers[i], { type: 'ROUTE', id: ids[i], key: s.key, htl: 1, purpose, kind: s.kind, block });
    }
  }

  /** A peer's answer to our fan-out: a PEEK_BLOCK's block, or undefined for a refusal. */
  private onFanOutAnswer(from: NodeId, id: Uint8Array, block: Uint8Array | undefined, now: number): void {
    const s = this.fanOuts.answer(id, from);
    if (s === undefined) return;
    if (s.purpose === 'GET_BLOCK' && block !== undefined && this.verified(from, s.kind!, s.key, block)) {
      s.best = s.best === undefined ? block : sskNewer(s.best, block);
    }
    if (s.fanout!.pending > 0) return;
    if (s.purpose === 'PUT_BLOCK') this.putDone(s); // a replica refused: it stored nothing
    else this.peekDone(s, now);
  }

  private peekDone(s: RequestState, now: number): void {
    if (s.best !== undefined) {
      this.stats.blocksServed++;
      this.answerBlock(s, s.best, 0, now);
      return;
    }
    this.stats.blocksNotFound++;
    this.ops.fail(s, 'NOT_FOUND', now);
  }

  private putDone(s: RequestState): void {
    const stored = s.stored;
    this.ops.finish(s);
    if (s.pred !== null) this.ctx.send(s.pred, { type: 'PUT_REPLY', id: s.id, hops: 0, stored });
    else this.ctx.emit({ kind: 'insertDone', requestId: s.id, result: { ok: true, stored, hops: 0 } });
  }

  /** Puts a verified block into our store (if we have one); returns whether it was kept. */
  private keep(kind: BlockKind, key: Uint8Array, block: Uint8Array, role: 'store' | 'cache', now: number): boolean {
    // every caller verified the block against the key just before (verified() or the insert's check)
    if (this.store === undefined || !this.store.put(kind, key, block, role, { verified: true })) return false;
    this.repair?.noteKept(kind, key, role, now);
    if (role === 'store') this.stats.blocksStored++;
    else this.stats.blocksCached++;
    return true;
  }
}
