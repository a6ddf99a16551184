// Recursive key-routed requests (DESIGN.md layer 3 and "The anonymous request"): a request for a
// key travels hop by hop, each node forwarding it to its closest live peer strictly closer to the
// key than itself; the node with no closer live peer is the one the request was looking for, and
// its reply travels back along the same path, so each hop knows only its predecessor and successor.
//
// Per request id, a node keeps one state: predecessor, peers tried, the attempt in flight. The
// table is bounded (maxRequests, and maxRequestsPerPeer per predecessor; beyond: REJECT OVERLOAD)
// and every state ends within maxAttempts × (ackTimeoutMs + replyTimeoutMs), since each attempt
// has a deadline; the originator's own lookups also end at lookupTimeoutMs.
// - Loop detection: an id this node is still handling is answered REJECT LOOP, and the sender
//   tries its next-best peer. Since every hop moves strictly closer to the key, an honest path
//   never cycles: a second copy comes from another branch of the same request (a loop to cut) or,
//   once the first copy is answered, from a retry after a reply was lost on the way back (which is
//   handled afresh; remembering finished ids would turn that retry into a failure).
// - Backtracking: REJECT (LOOP, OVERLOAD, NO_ROUTE), no ACCEPTED within ackTimeoutMs, no reply
//   within replyTimeoutMs after ACCEPTED, or the link dropping, all move on to the next-best peer
//   (timeouts and dropped links also count against the peer's liveness; peers that failed before
//   are tried after the healthy ones). With no candidate left, the node answers itself as the
//   closest if every closer peer it knew was dead (no reply at all), else REJECT NO_ROUTE so its
//   predecessor backtracks in turn; after maxAttempts next hops it answers REJECT NO_ROUTE.
// - Hops-to-live: the originator starts at a random value in [HTL_MAX - HTL_START_SPREAD, HTL_MAX];
//   a hop at HTL_MAX decrements only towards the peers its secret selects (Freenet's
//   decrementAtMax), below it always. A hop that would send 0 answers REJECT HTL, which travels
//   back to the originator without further backtracking (other branches are longer still).
// - The reply counts hops on its way back, so the originator learns the path length and nothing else.
// Route replies never touch routing tables (no path folding: DESIGN.md "The anonymous request").
//
// Block requests (GET_BLOCK, PUT_BLOCK and their one-hop STORE_BLOCK / PEEK_BLOCK fan-outs) ride
// on the same machinery; what they add on arrival, on answers and at the end of a route is in
// routing/block-requests.ts.

import type { BlockStore } from '../store/block-store.ts';
import { BlockRequests } from './block-requests.ts';
import { HTL_MAX, HTL_START_SPREAD, ROUTE_ID_LEN } from './constants.ts';
import type { CoreContext } from './context.ts';
import { closer, idEquals, idHex, type NodeId } from './keyspace.ts';
import type {
  BlockReplyMsg,
  Purpose,
  PutReplyMsg,
  RejectReason,
  RouteAcceptedMsg,
  RouteMsg,
  RouteRejectMsg,
  RouteReplyMsg,
} from './messages.ts';
import type { LookupFailure } from './outputs.ts';
import type { Repair } from './repair.ts';
import { type BlockArgs, newRouterStats, type RequestState, type RouterStats } from './request-state.ts';
import type { PeerEntry } from './table.ts';

export type { BlockArgs, RouterStats } from './request-state.ts';

export class Router {
  private readonly states = new Map<string, RequestState>();
  private readonly perPeer = new Map<string, number>(); // predecessor → requests of theirs we hold
  private readonly secret: Uint8Array;
  private readonly decAtMax = new Map<string, boolean>();
  readonly stats: RouterStats = newRouterStats();
  private readonly blocks: BlockRequests;
  // Ids we recently answered with a failure, and the answer: a second copy (another branch of the
  // same request) gets it at once instead of exploring our subtree again. Bounded, oldest dropped.
  private readonly failed = new Map<string, RejectReason>();

  constructor(
    private readonly ctx: CoreContext,
    store: BlockStore | undefined,
    repair?: Repair,
  ) {
    this.secret = ctx.random(32);
    this.blocks = new BlockRequests(ctx, store, repair, this.stats, {
      state: (id) => this.states.get(idHex(id)),
      advance: (s, now) => this.advance(s, now),
      finish: (s) => this.finish(s),
      fail: (s, reason, now) => this.fail(s, reason, now),
      sendAccepted: (s) => this.sendAccepted(s),
    });
  }

  get activeRequests(): number {
    return this.states.size;
  }

  /**
   * Starts a request of our own (we are its originator: a local client, or later a circuit's exit);
   * returns its request id. Block purposes need `blockArgs` (the caller checked the block).
   */
  start(key: Uint8Array, now: number, purpose: Purpose, payload: Uint8Array | undefined, blockArgs?: BlockArgs): Uint8Array {
    const id = this.ctx.random(ROUTE_ID_LEN);
    const htl = HTL_MAX - this.ctx.randomInt(HTL_START_SPREAD + 1);
    let held: Uint8Array | undefined;
    if (purpose === 'GET_BLOCK' && blockArgs !== undefined) {
      held = this.blocks.held(blockArgs.kind, key);
      if (held !== undefined && blockArgs.kind === 'CHK') {
        this.ctx.emit({ kind: 'fetchDone', requestId: id, result: { ok: true, block: held, hops: 0 } });
        return id;
      }
    }
    const s = this.newState(id, key, htl, purpose, payload, blockArgs, null, now + this.ctx.policy.lookupTimeoutMs);
    s.best = held; // an SSK we hold may be stale: ask the network for a newer one
    this.advance(s, now);
    return id;
  }

  onRoute(from: NodeId, m: RouteMsg, now: number): void {
    if (m.purpose === 'STORE_BLOCK' || m.purpose === 'PEEK_BLOCK') {
      this.blocks.onOneHop(from, m, now);
      return;
    }
    const k = idHex(m.id);
    if (this.states.has(k)) {
      this.stats.loopsRejected++;
      this.reject(from, m.id, 'LOOP');
      return;
    }
    const failedBefore = this.failed.get(k);
    if (failedBefore !== undefined) {
      this.reject(from, m.id, failedBefore);
      return;
    }
    let held: Uint8Array | undefined;
    if (m.purpose === 'GET_BLOCK') {
      if (m.kind === 'CHK') {
        if (this.blocks.serveHeld(from, m.id, m.kind, m.key)) {
          this.stats.blocksServed++;
          return;
        }
      } else held = this.blocks.held(m.kind!, m.key); // an SSK may be stale: it goes on, kept as the best so far
    }
    const predKey = idHex(from);
    if (this.states.size >= this.ctx.policy.maxRequests || (this.perPeer.get(predKey) ?? 0) >= this.ctx.policy.maxRequestsPerPeer) {
      this.stats.overloadRejected++;
      if (held !== undefined) this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held }); // too busy to look further
      else this.reject(from, m.id, 'OVERLOAD');
      return;
    }
    if (m.purpose === 'PUT_BLOCK' && !this.blocks.verified(from, m.kind!, m.key, m.block!)) return; // garbage gets silence
    this.stats.requestsHandled++;
    const blockArgs = m.kind === undefined ? undefined : { kind: m.kind, block: m.block, copies: m.copies };
    const s = this.newState(m.id, m.key, m.htl, m.purpose, m.payload, blockArgs, from, Infinity);
    s.best = held;
    this.advance(s, now);
  }

  onBlockReply(from: NodeId, m: BlockReplyMsg, now: number): void {
    this.blocks.onBlockReply(from, m, now);
  }

  onPutReply(from: NodeId, m: PutReplyMsg, _now: number): void {
    this.blocks.onPutReply(from, m);
  }

  onAccepted(from: NodeId, m: RouteAcceptedMsg, now: number): void {
    const s = this.states.get(idHex(m.id));
    const a = s?.attempt;
    if (a == null || a.accepted || !idEquals(a.peer, from)) return; // not the hop we wait for
    a.accepted = true;
    a.deadline = now + this.ctx.policy.replyTimeoutMs;
    this.ctx.wakeBy(a.deadline);
  }

  onReply(from: NodeId, m: RouteReplyMsg, now: number): void {
    const s = this.states.get(idHex(m.id));
    // a late answer from any hop we tried is as good as one from the current hop
    if (s === undefined || s.purpose !== 'FIND_NODE' || !s.tried.some((p) => idEquals(p, from))) return;
    const hops = Math.min(m.hops + 1, 255);
    if (s.pred !== null) {
      this.ctx.send(s.pred, { type: 'ROUTE_REPLY', id: s.id, hops, node: m.node, payload: m.payload });
      this.finish(s);
      return;
    }
    let node;
    try {
      node = this.ctx.descriptors.read(m.node, now);
    } catch {
      this.fail(s, 'BAD_REPLY', now);
      return;
    }
    this.finish(s);
    this.ctx.emit({ kind: 'lookupDone', requestId: s.id, result: { ok: true, node, hops, payload: m.payload } });
  }

  onReject(from: NodeId, m: RouteRejectMsg, now: number): void {
    if (this.blocks.isFanOut(m.id)) {
      this.blocks.onFanOutReject(from, m.id, now);
      return;
    }
    const s = this.states.get(idHex(m.id));
    const a = s?.attempt;
    if (s === undefined || a == null || !idEquals(a.peer, from)) return;
    s.attempt = null;
    if (m.reason === 'HTL') {
      this.fail(s, 'HTL', now);
      return;
    }
    if (m.reason === 'NOT_FOUND') s.notFound = true;
    s.refused = true;
    this.stats.backtracks++;
    this.advance(s, now);
  }

  /** The link to a peer dropped: attempts waiting on it move on now. */
  peerDisconnected(peer: NodeId, now: number): void {
    for (const s of [...this.states.values()]) {
      if (s.attempt !== null && idEquals(s.attempt.peer, peer)) this.attemptFailed(s, now);
    }
  }

  tick(now: number): void {
    for (const s of [...this.states.values()]) {
      if (!this.states.has(idHex(s.id))) continue; // finished while we were iterating
      if (now >= s.deadline) this.fail(s, 'TIMEOUT', now);
      else if (s.fanout !== null && now >= s.fanout.deadline) this.blocks.fanOutTimedOut(s, now);
      else if (s.attempt !== null && now >= s.attempt.deadline) this.attemptFailed(s, now);
    }
  }

  nextDeadline(): number {
    let t = Infinity;
    for (const s of this.states.values()) {
      if (s.deadline < t) t = s.deadline;
      if (s.attempt !== null && s.attempt.deadline < t) t = s.attempt.deadline;
      if (s.fanout !== null && s.fanout.deadline < t) t = s.fanout.deadline;
    }
    return t;
  }

  private newState(
    id: Uint8Array,
    key: Uint8Array,
    htl: number,
    purpose: Purpose,
    payload: Uint8Array | undefined,
    blockArgs: BlockArgs | undefined,
    pred: NodeId | null,
    deadline: number,
  ): RequestState {
    const s: RequestState = {
      id, key, htl, purpose, payload, kind: blockArgs?.kind, block: blockArgs?.block, copies: blockArgs?.copies, pred, deadline,
      tried: [], attempt: null, acceptedSent: false, refused: false, notFound: false,
      best: undefined, stored: 0, fanout: null,
    };
    this.states.set(idHex(id), s);
    this.ctx.wakeBy(deadline);
    if (pred !== null) {
      const k = idHex(pred);
      this.perPeer.set(k, (this.perPeer.get(k) ?? 0) + 1);
    }
    return s;
  }

  private attemptFailed(s: RequestState, now: number): void {
    const peer = s.attempt!.peer;
    s.attempt = null;
    this.stats.timeouts++;
    this.ctx.table.markFailed(peer);
    this.advance(s, now);
  }

  /** Forwards to the next candidate, or answers when there is none. */
  private advance(s: RequestState, now: number): void {
    if (s.tried.length >= this.ctx.policy.maxAttempts) {
      this.stats.exhausted++;
      this.fail(s, 'NO_ROUTE', now);
      return;
    }
    const next = this.candidate(s);
    if (next === undefined) {
      if (s.refused) {
        this.stats.deadEnds++;
        this.fail(s, 'NO_ROUTE', now);
      } else {
        this.answerHere(s, now);
      }
      return;
    }
    const peer = next.desc.id;
    const htl = s.pred === null ? s.htl : this.nextHtl(s.htl, peer);
    if (htl < 1) {
      this.fail(s, 'HTL', now);
      return;
    }
    this.blocks.forwarding(s, now);
    s.tried.push(peer);
    s.attempt = { peer, accepted: false, deadline: now + this.ctx.policy.ackTimeoutMs };
    this.ctx.wakeBy(s.attempt.deadline);
    this.ctx.send(peer, { type: 'ROUTE', id: s.id, key: s.key, htl, purpose: s.purpose, payload: s.payload, kind: s.kind, block: s.block, copies: s.copies });
    this.sendAccepted(s);
  }

  private sendAccepted(s: RequestState): void {
    if (s.pred !== null && !s.acceptedSent) {
      s.acceptedSent = true;
      this.ctx.send(s.pred, { type: 'ROUTE_ACCEPTED', id: s.id });
    }
  }

  /** The closest untried peer strictly closer to the key than we are, preferring ones not failing. */
  private candidate(s: RequestState): PeerEntry | undefined {
    const self = this.ctx.self.id;
    const list = this.ctx.table.closest(
      s.key,
      this.ctx.policy.maxAttempts,
      (e) => closer(e.desc.id, self, s.key) && !s.tried.some((p) => idEquals(p, e.desc.id)),
    );
    for (const e of list) if (e.failures === 0 && e.badBlocks === 0) return e;
    for (const e of list) if (e.badBlocks === 0) return e;
    return list[0];
  }

  private nextHtl(htl: number, peer: NodeId): number {
    if (htl < HTL_MAX) return htl - 1;
    const k = idHex(peer);
    let dec = this.decAtMax.get(k);
    if (dec === undefined) {
      dec = (this.ctx.hash(this.secret, peer)[0] & 1) === 1;
      if (this.decAtMax.size >= 4096) this.decAtMax.clear();
      this.decAtMax.set(k, dec);
    }
    return dec ? HTL_MAX - 1 : HTL_MAX;
  }

  /** We are the closest live node we know of: answer with our own descriptor, or end a block request. */
  private answerHere(s: RequestState, now: number): void {
    if (s.purpose === 'GET_BLOCK' || s.purpose === 'PUT_BLOCK') {
      this.blocks.endHere(s, now);
      return;
    }
    this.finish(s);
    if (s.pred !== null) {
      this.ctx.send(s.pred, { type: 'ROUTE_REPLY', id: s.id, hops: 0, node: this.ctx.self.bytes });
    } else {
      this.ctx.emit({ kind: 'lookupDone', requestId: s.id, result: { ok: true, node: this.ctx.self, hops: 0 } });
    }
  }

  private fail(s: RequestState, reason: LookupFailure, now: number): void {
    if (s.best !== undefined) {
      this.blocks.answerBlock(s, s.best, 0, now); // an SSK branch that failed: the newest copy seen is still an answer
      return;
    }
    this.finish(s);
    if (reason === 'NO_ROUTE' && s.notFound) reason = 'NOT_FOUND';
    if (s.pred === null) {
      const requestId = s.id, result = { ok: false as const, reason };
      if (s.purpose === 'GET_BLOCK') this.ctx.emit({ kind: 'fetchDone', requestId, result });
      else if (s.purpose === 'PUT_BLOCK') this.ctx.emit({ kind: 'insertDone', requestId, result });
      else this.ctx.emit({ kind: 'lookupDone', requestId, result });
    } else {
      const why: RejectReason = reason === 'HTL' || reason === 'NOT_FOUND' ? reason : 'NO_ROUTE';
      this.failed.set(idHex(s.id), why);
      if (this.failed.size > this.ctx.policy.maxRequests) this.failed.delete(this.failed.keys().next().value!);
      this.reject(s.pred, s.id, why);
    }
  }

  private reject(to: NodeId, id: Uint8Array, reason: RejectReason): void {
    this.ctx.send(to, { type: 'ROUTE_REJECT', id, reason });
  }

  private finish(s: RequestState): void {
    if (this.states.get(idHex(s.id)) !== s) return; // finished already
    this.states.delete(idHex(s.id));
    this.blocks.ended(s);
    if (s.pred !== null) {
      const k = idHex(s.pred);
      const n = (this.perPeer.get(k) ?? 1) - 1;
      if (n <= 0) this.perPeer.delete(k);
      else this.perPeer.set(k, n);
    }
  }
}
