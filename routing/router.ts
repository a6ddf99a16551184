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
// Blocks (issue 4; DESIGN.md layer 4 and "The anonymous request") ride on the same machinery:
// - GET_BLOCK: every hop that holds the block answers BLOCK_REPLY at once; otherwise it forwards
//   as above, and the node with no closer live peer answers REJECT NOT_FOUND, on which the
//   predecessor backtracks like after any refusal. Each hop verifies a returned block against the
//   key (crypto/chk, crypto/ssk through store/block-verify) before it caches ('cache' role) and
//   forwards it; a bad block lowers the sender's standing (table.markBadBlock: evicted and banned
//   after ROUTING_MAX_BAD_BLOCKS) and the hop backtracks to its next-best peer as for a failed branch.
// - PUT_BLOCK: every relaying hop verifies the block (a bad one is dropped in silence and counted
//   against the sender) and caches it; the node with no closer live peer stores it ('store' role)
//   and sends STORE_BLOCK replicas (fresh request ids, not routed further) to its policy.replicas - 1
//   peers closest to the key, waits up to ackTimeoutMs for their PUT_REPLY, and answers PUT_REPLY
//   with the number of copies stored, which travels back along the path.
// - The originator (pred null: the user's own node now, a circuit's exit later) never writes what
//   it fetches or inserts to its own store, neither role; if it is itself the closest, it sends
//   policy.replicas replicas and keeps none (DESIGN.md: "The client's own requests never write to
//   its shared store"). Only relaying hops cache.
// - Repair (routing/repair.ts) learns every block kept here, in either role, and tops up the copies
//   as holders fail; a PUT_REPLY to one of its STORE_BLOCK copies matches no state and is ignored.

import type { BlockKind, BlockStore } from '../store/block-store.ts';
import { verifyBlock } from '../store/block-verify.ts';
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
import type { PeerEntry } from './table.ts';

interface Attempt {
  peer: NodeId;
  accepted: boolean;
  deadline: number;
}

interface RequestState {
  readonly id: Uint8Array;
  readonly key: Uint8Array;
  readonly htl: number; // as received (for our own lookup: the start value)
  readonly purpose: Purpose;
  readonly payload: Uint8Array | undefined;
  readonly kind: BlockKind | undefined; // GET_BLOCK, PUT_BLOCK
  readonly block: Uint8Array | undefined; // PUT_BLOCK
  readonly pred: NodeId | null; // null: a lookup of our own
  readonly deadline: number; // our own lookups only; Infinity otherwise
  readonly tried: NodeId[];
  attempt: Attempt | null;
  acceptedSent: boolean;
  refused: boolean; // a closer peer answered but did not take the request to its end
  notFound: boolean; // a closer peer answered NOT_FOUND (GET_BLOCK)
  replicas: { pending: number; stored: number; deadline: number } | null; // PUT_BLOCK at its end
}

/** A block request to start: what GET_BLOCK and PUT_BLOCK carry besides the key. */
export interface BlockArgs {
  kind: BlockKind;
  block?: Uint8Array;
}

export interface RouterStats {
  requestsHandled: number;
  loopsRejected: number;
  overloadRejected: number;
  timeouts: number;
  backtracks: number;
  exhausted: number; // gave up after maxAttempts
  deadEnds: number; // gave up: no candidate left and some closer peer refused
  blocksServed: number; // GET_BLOCK answered from our store
  blocksNotFound: number; // GET_BLOCK ended here without the block
  badBlocks: number; // blocks from peers that failed verification (dropped)
  blocksStored: number; // PUT_BLOCK / STORE_BLOCK kept in the 'store' role
  blocksCached: number; // blocks kept in the 'cache' role while relaying
}

export class Router {
  private readonly states = new Map<string, RequestState>();
  private readonly perPeer = new Map<string, number>(); // predecessor → requests of theirs we hold
  private readonly secret: Uint8Array;
  private readonly decAtMax = new Map<string, boolean>();
  readonly stats: RouterStats = {
    requestsHandled: 0,
    loopsRejected: 0,
    overloadRejected: 0,
    timeouts: 0,
    backtracks: 0,
    exhausted: 0,
    deadEnds: 0,
    blocksServed: 0,
    blocksNotFound: 0,
    badBlocks: 0,
    blocksStored: 0,
    blocksCached: 0,
  };
  private readonly replicaWaits = new Map<string, { parent: RequestState; peer: NodeId }>();
  // Ids we recently answered with a failure, and the answer: a second copy (another branch of the
  // same request) gets it at once instead of exploring our subtree again. Bounded, oldest dropped.
  private readonly failed = new Map<string, RejectReason>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly store: BlockStore | undefined,
    private readonly repair?: Repair,
  ) {
    this.secret = ctx.random(32);
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
    if (purpose === 'GET_BLOCK' && blockArgs !== undefined) {
      const held = this.store?.get(blockArgs.kind, key); // reading our own store writes nothing
      if (held !== undefined) {
        this.ctx.emit({ kind: 'fetchDone', requestId: id, result: { ok: true, block: held, hops: 0 } });
        return id;
      }
    }
    const s = this.newState(id, key, htl, purpose, payload, blockArgs, null, now + this.ctx.policy.lookupTimeoutMs);
    this.advance(s, now);
    return id;
  }

  onRoute(from: NodeId, m: RouteMsg, now: number): void {
    if (m.purpose === 'STORE_BLOCK') {
      this.onStoreReplica(from, m, now);
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
    if (m.purpose === 'GET_BLOCK') {
      const held = this.store?.get(m.kind!, m.key);
      if (held !== undefined) {
        this.stats.blocksServed++;
        this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held });
        return;
      }
    }
    const predKey = idHex(from);
    if (this.states.size >= this.ctx.policy.maxRequests || (this.perPeer.get(predKey) ?? 0) >= this.ctx.policy.maxRequestsPerPeer) {
      this.stats.overloadRejected++;
      this.reject(from, m.id, 'OVERLOAD');
      return;
    }
    if (m.purpose === 'PUT_BLOCK') {
      if (!this.verified(from, m.kind!, m.key, m.block!)) return; // garbage gets silence
      this.keep(m.kind!, m.key, m.block!, 'cache', now);
    }
    this.stats.requestsHandled++;
    const blockArgs = m.kind === undefined ? undefined : { kind: m.kind, block: m.block };
    this.advance(this.newState(m.id, m.key, m.htl, m.purpose, m.payload, blockArgs, from, Infinity), now);
  }

  /** A replica from the node closest to the key: verify, store, acknowledge; never routed on. */
  private onStoreReplica(from: NodeId, m: RouteMsg, now: number): void {
    if (!this.verified(from, m.kind!, m.key, m.block!)) return;
    const stored = this.keep(m.kind!, m.key, m.block!, 'store', now) ? 1 : 0;
    this.ctx.send(from, { type: 'PUT_REPLY', id: m.id, hops: 0, stored });
  }

  onBlockReply(from: NodeId, m: BlockReplyMsg, now: number): void {
    const s = this.states.get(idHex(m.id));
    if (s === undefined || s.purpose !== 'GET_BLOCK' || !s.tried.some((p) => idEquals(p, from))) return;
    if (!this.verified(from, s.kind!, s.key, m.block)) {
      // a wrong block is a failed branch: drop it and try the next-best peer
      if (s.attempt !== null && idEquals(s.attempt.peer, from)) {
        s.attempt = null;
        this.advance(s, now);
      }
      return;
    }
    const hops = Math.min(m.hops + 1, 255);
    this.finish(s);
    if (s.pred !== null) {
      this.keep(s.kind!, s.key, m.block, 'cache', now);
      this.ctx.send(s.pred, { type: 'BLOCK_REPLY', id: s.id, hops, block: m.block });
    } else {
      this.ctx.emit({ kind: 'fetchDone', requestId: s.id, result: { ok: true, block: m.block, hops } });
    }
  }

  onPutReply(from: NodeId, m: PutReplyMsg, _now: number): void {
    const hex = idHex(m.id);
    const w = this.replicaWaits.get(hex);
    if (w !== undefined) {
      if (!idEquals(w.peer, from)) return;
      this.replicaWaits.delete(hex);
      const r = w.parent.replicas!;
      r.pending--;
      if (m.stored > 0) r.stored++;
      if (r.pending <= 0) this.putDone(w.parent);
      return;
    }
    const s = this.states.get(hex);
    if (s === undefined || s.purpose !== 'PUT_BLOCK' || s.replicas !== null || !s.tried.some((p) => idEquals(p, from))) return;
    const hops = Math.min(m.hops + 1, 255);
    this.finish(s);
    if (s.pred !== null) this.ctx.send(s.pred, { type: 'PUT_REPLY', id: s.id, hops, stored: m.stored });
    else this.ctx.emit({ kind: 'insertDone', requestId: s.id, result: { ok: true, stored: m.stored, hops } });
  }

  onAccepted(from: NodeId, m: RouteAcceptedMsg, now: number): void {
    const s = this.states.get(idHex(m.id));
    const a = s?.attempt;
    if (a == null || a.accepted || !idEquals(a.peer, from)) return; // not the hop we wait for
    a.accepted = true;
    a.deadline = now + this.ctx.policy.replyTimeoutMs;
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
      else if (s.replicas !== null && now >= s.replicas.deadline) this.replicasTimedOut(s);
      else if (s.attempt !== null && now >= s.attempt.deadline) this.attemptFailed(s, now);
    }
  }

  nextDeadline(): number {
    let t = Infinity;
    for (const s of this.states.values()) {
      if (s.deadline < t) t = s.deadline;
      if (s.attempt !== null && s.attempt.deadline < t) t = s.attempt.deadline;
      if (s.replicas !== null && s.replicas.deadline < t) t = s.replicas.deadline;
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
      id, key, htl, purpose, payload, kind: blockArgs?.kind, block: blockArgs?.block, pred, deadline,
      tried: [], attempt: null, acceptedSent: false, refused: false, notFound: false, replicas: null,
    };
    this.states.set(idHex(id), s);
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
    s.tried.push(peer);
    s.attempt = { peer, accepted: false, deadline: now + this.ctx.policy.ackTimeoutMs };
    this.ctx.send(peer, { type: 'ROUTE', id: s.id, key: s.key, htl, purpose: s.purpose, payload: s.payload, kind: s.kind, block: s.block });
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
    if (s.purpose === 'GET_BLOCK') {
      this.stats.blocksNotFound++;
      this.fail(s, 'NOT_FOUND', now); // we would have answered on arrival if we held it
      return;
    }
    if (s.purpose === 'PUT_BLOCK') {
      this.storeHere(s, now);
      return;
    }
    this.finish(s);
    if (s.pred !== null) {
      this.ctx.send(s.pred, { type: 'ROUTE_REPLY', id: s.id, hops: 0, node: this.ctx.self.bytes });
    } else {
      this.ctx.emit({ kind: 'lookupDone', requestId: s.id, result: { ok: true, node: this.ctx.self, hops: 0 } });
    }
  }

  /** The end of an insert's route: store here (unless we originated it), replicate, then answer. */
  private storeHere(s: RequestState, now: number): void {
    const kind = s.kind!, block = s.block!;
    const stored = s.pred !== null && this.keep(kind, s.key, block, 'store', now) ? 1 : 0;
    const want = Math.max(0, this.ctx.policy.replicas - (s.pred === null ? 0 : 1));
    const peers = this.ctx.table.closest(s.key, want, (e) => e.failures === 0 && e.badBlocks === 0);
    s.replicas = { pending: peers.length, stored, deadline: now + this.ctx.policy.ackTimeoutMs };
    if (peers.length === 0) {
      this.putDone(s);
      return;
    }
    this.sendAccepted(s); // the predecessor's short ack timeout must not fire while replicas answer
    for (const e of peers) {
      const rid = this.ctx.random(ROUTE_ID_LEN); // a fresh id: replicas cannot link it to the route
      this.replicaWaits.set(idHex(rid), { parent: s, peer: e.desc.id });
      this.ctx.send(e.desc.id, { type: 'ROUTE', id: rid, key: s.key, htl: 1, purpose: 'STORE_BLOCK', kind, block });
    }
  }

  private replicasTimedOut(s: RequestState): void {
    for (const [k, w] of [...this.replicaWaits]) {
      if (w.parent !== s) continue;
      this.replicaWaits.delete(k);
      this.stats.timeouts++;
      this.ctx.table.markFailed(w.peer);
    }
    this.putDone(s);
  }

  private putDone(s: RequestState): void {
    const stored = s.replicas!.stored;
    this.finish(s);
    if (s.pred !== null) this.ctx.send(s.pred, { type: 'PUT_REPLY', id: s.id, hops: 0, stored });
    else this.ctx.emit({ kind: 'insertDone', requestId: s.id, result: { ok: true, stored, hops: 0 } });
  }

  /** Verifies a block from a peer; a bad one is counted against the peer's standing. */
  private verified(from: NodeId, kind: BlockKind, key: Uint8Array, block: Uint8Array): boolean {
    if (verifyBlock(kind, key, block) !== null) return true;
    this.stats.badBlocks++;
    this.ctx.table.markBadBlock(from);
    return false;
  }

  /** Puts a verified block into our store (if we have one); returns whether it was kept. */
  private keep(kind: BlockKind, key: Uint8Array, block: Uint8Array, role: 'store' | 'cache', now: number): boolean {
    if (this.store === undefined || !this.store.put(kind, key, block, role)) return false;
    this.repair?.noteKept(kind, key, role, now);
    if (role === 'store') this.stats.blocksStored++;
    else this.stats.blocksCached++;
    return true;
  }

  private fail(s: RequestState, reason: LookupFailure, now: number): void {
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
    if (s.replicas !== null && s.replicas.pending > 0) {
      for (const [k, w] of [...this.replicaWaits]) if (w.parent === s) this.replicaWaits.delete(k);
    }
    if (s.pred !== null) {
      const k = idHex(s.pred);
      const n = (this.perPeer.get(k) ?? 1) - 1;
      if (n <= 0) this.perPeer.delete(k);
      else this.perPeer.set(k, n);
    }
  }
}
