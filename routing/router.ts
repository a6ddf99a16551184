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
// - GET_BLOCK of a CHK: every hop that holds the block answers BLOCK_REPLY at once; otherwise it
//   forwards as above, and the node with no closer live peer answers REJECT NOT_FOUND, on which the
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

import type { BlockKind, BlockStore } from '../store/block-store.ts';
import { verifyBlock } from '../store/block-verify.ts';
import { sskNewer } from '../crypto/ssk.ts';
import { BLOCK_COPIES_MAX, HTL_MAX, HTL_START_SPREAD, ROUTE_ID_LEN } from './constants.ts';
import type { CoreContext } from './context.ts';
import { FanOuts, type FanOutState } from './fan-out.ts';
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
  readonly copies: number | undefined; // PUT_BLOCK: copies asked for (else policy.replicas)
  readonly pred: NodeId | null; // null: a lookup of our own
  readonly deadline: number; // our own lookups only; Infinity otherwise
  readonly tried: NodeId[];
  attempt: Attempt | null;
  acceptedSent: boolean;
  refused: boolean; // a closer peer answered but did not take the request to its end
  notFound: boolean; // a closer peer answered NOT_FOUND (GET_BLOCK)
  best: Uint8Array | undefined; // GET_BLOCK of an SSK: the newest verified copy seen so far
  stored: number; // PUT_BLOCK at its end: copies stored, ours and the replicas'
  fanout: FanOutState | null; // at the end of a block request: STORE_BLOCK or PEEK_BLOCK answers awaited
}

/** A block request to start: what GET_BLOCK and PUT_BLOCK carry besides the key. */
export interface BlockArgs {
  kind: BlockKind;
  block?: Uint8Array;
  copies?: number; // PUT_BLOCK: copies to ask for (1..BLOCK_COPIES_MAX; default policy.replicas)
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
  private readonly fanOuts = new FanOuts<RequestState>();
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
    let held: Uint8Array | undefined;
    if (purpose === 'GET_BLOCK' && blockArgs !== undefined) {
      held = this.store?.get(blockArgs.kind, key); // reading our own store writes nothing
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
    if (m.purpose === 'STORE_BLOCK') {
      this.onStoreReplica(from, m, now);
      return;
    }
    if (m.purpose === 'PEEK_BLOCK') {
      const held = this.store?.get(m.kind!, m.key);
      if (held === undefined) this.reject(from, m.id, 'NOT_FOUND');
      else this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held });
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
      held = this.store?.get(m.kind!, m.key);
      if (held !== undefined && m.kind === 'CHK') {
        this.stats.blocksServed++;
        this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held });
        return;
      }
    }
    const predKey = idHex(from);
    if (this.states.size >= this.ctx.policy.maxRequests || (this.perPeer.get(predKey) ?? 0) >= this.ctx.policy.maxRequestsPerPeer) {
      this.stats.overloadRejected++;
      if (held !== undefined) this.ctx.send(from, { type: 'BLOCK_REPLY', id: m.id, hops: 0, block: held }); // too busy to look further
      else this.reject(from, m.id, 'OVERLOAD');
      return;
    }
    if (m.purpose === 'PUT_BLOCK' && !this.verified(from, m.kind!, m.key, m.block!)) return; // garbage gets silence
    this.stats.requestsHandled++;
    const blockArgs = m.kind === undefined ? undefined : { kind: m.kind, block: m.block, copies: m.copies };
    const s = this.newState(m.id, m.key, m.htl, m.purpose, m.payload, blockArgs, from, Infinity);
    s.best = held;
    this.advance(s, now);
  }

  /** A replica from the node closest to the key: verify, store, acknowledge; never routed on. */
  private onStoreReplica(from: NodeId, m: RouteMsg, now: number): void {
    if (!this.verified(from, m.kind!, m.key, m.block!)) return;
    const stored = this.keep(m.kind!, m.key, m.block!, 'store', now) ? 1 : 0;
    this.ctx.send(from, { type: 'PUT_REPLY', id: m.id, hops: 0, stored });
  }

  onBlockReply(from: NodeId, m: BlockReplyMsg, now: number): void {
    if (this.fanOuts.has(m.id)) {
      this.onPeekAnswer(from, m.id, m.block, now);
      return;
    }
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
    const block = s.best === undefined ? m.block : sskNewer(s.best, m.block);
    this.answerBlock(s, block, Math.min(m.hops + 1, 255), now);
  }

  /** Ends a GET_BLOCK with a verified block: cache it if we relay, and send it back. */
  private answerBlock(s: RequestState, block: Uint8Array, hops: number, now: number): void {
    this.finish(s);
    if (s.pred !== null) {
      this.keep(s.kind!, s.key, block, 'cache', now);
      this.ctx.send(s.pred, { type: 'BLOCK_REPLY', id: s.id, hops, block });
    } else {
      this.ctx.emit({ kind: 'fetchDone', requestId: s.id, result: { ok: true, block, hops } });
    }
  }

  /** A peer's answer to our PEEK_BLOCK (a block, or undefined for a refusal). */
  private onPeekAnswer(from: NodeId, id: Uint8Array, block: Uint8Array | undefined, now: number): void {
    const s = this.fanOuts.answer(id, from);
    if (s === undefined) return;
    if (s.purpose === 'GET_BLOCK' && block !== undefined && this.verified(from, s.kind!, s.key, block)) {
      s.best = s.best === undefined ? block : sskNewer(s.best, block);
    }
    if (s.fanout!.pending > 0) return;
    if (s.purpose === 'PUT_BLOCK') this.putDone(s); // a replica refused: it stored nothing
    else this.peekDone(s, now);
  }

  onPutReply(from: NodeId, m: PutReplyMsg, _now: number): void {
    if (this.fanOuts.has(m.id)) {
      const parent = this.fanOuts.answer(m.id, from);
      if (parent === undefined || parent.purpose !== 'PUT_BLOCK') return;
      if (m.stored > 0) parent.stored++;
      if (parent.fanout!.pending <= 0) this.putDone(parent);
      return;
    }
    const s = this.states.get(idHex(m.id));
    if (s === undefined || s.purpose !== 'PUT_BLOCK' || s.fanout !== null || !s.tried.some((p) => idEquals(p, from))) return;
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
    if (this.fanOuts.has(m.id)) {
      this.onPeekAnswer(from, m.id, undefined, now);
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
      else if (s.fanout !== null && now >= s.fanout.deadline) this.fanOutTimedOut(s, now);
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
    // A relaying hop caches an insert as it passes it on; the end node stores it instead (one write).
    if (s.purpose === 'PUT_BLOCK' && s.pred !== null && s.tried.length === 0) this.keep(s.kind!, s.key, s.block!, 'cache', now);
    s.tried.push(peer);
    s.attempt = { peer, accepted: false, deadline: now + this.ctx.policy.ackTimeoutMs };
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
    if (s.purpose === 'GET_BLOCK' && s.kind === 'SSK') {
      this.peekHere(s, now);
      return;
    }
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
    s.stored = s.pred !== null && this.keep(kind, s.key, block, 'store', now) ? 1 : 0;
    const peers = this.fanOutPeers(s);
    if (peers.length === 0) {
      this.putDone(s);
      return;
    }
    this.sendAccepted(s); // the predecessor's short ack timeout must not fire while replicas answer
    const ids = peers.map(() => this.ctx.random(ROUTE_ID_LEN)); // fresh ids: replicas cannot link them to the route
    this.fanOuts.begin(s, peers, ids, now + this.ctx.policy.ackTimeoutMs);
    for (let i = 0; i < peers.length; i++) {
      this.ctx.send(peers[i], { type: 'ROUTE', id: ids[i], key: s.key, htl: 1, purpose: 'STORE_BLOCK', kind, block });
    }
  }

  /** The end of an SSK fetch's route: ask the closest peers for their version, then answer the newest. */
  private peekHere(s: RequestState, now: number): void {
    const peers = this.fanOutPeers(s);
    if (peers.length === 0) {
      this.peekDone(s, now);
      return;
    }
    this.sendAccepted(s);
    const ids = peers.map(() => this.ctx.random(ROUTE_ID_LEN));
    this.fanOuts.begin(s, peers, ids, now + this.ctx.policy.ackTimeoutMs);
    for (let i = 0; i < peers.length; i++) {
      this.ctx.send(peers[i], { type: 'ROUTE', id: ids[i], key: s.key, htl: 1, purpose: 'PEEK_BLOCK', kind: s.kind });
    }
  }

  /** The peers a block request's end node asks: the replicas closest to the key besides itself. */
  private fanOutPeers(s: RequestState): NodeId[] {
    const copies = Math.min(s.copies ?? this.ctx.policy.replicas, BLOCK_COPIES_MAX);
    const want = Math.max(0, copies - (s.pred === null ? 0 : 1));
    return this.ctx.table.closest(s.key, want, (e) => e.failures === 0 && e.badBlocks === 0).map((e) => e.desc.id);
  }

  private peekDone(s: RequestState, now: number): void {
    if (s.best !== undefined) {
      this.stats.blocksServed++;
      this.answerBlock(s, s.best, 0, now);
      return;
    }
    this.stats.blocksNotFound++;
    this.fail(s, 'NOT_FOUND', now);
  }

  private fanOutTimedOut(s: RequestState, now: number): void {
    for (const peer of this.fanOuts.end(s)) {
      this.stats.timeouts++;
      this.ctx.table.markFailed(peer);
    }
    if (s.purpose === 'PUT_BLOCK') this.putDone(s);
    else this.peekDone(s, now);
  }

  private putDone(s: RequestState): void {
    const stored = s.stored;
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
    // every caller verified the block against the key just before (verified() or the insert's check)
    if (this.store === undefined || !this.store.put(kind, key, block, role, { verified: true })) return false;
    this.repair?.noteKept(kind, key, role, now);
    if (role === 'store') this.stats.blocksStored++;
    else this.stats.blocksCached++;
    return true;
  }

  private fail(s: RequestState, reason: LookupFailure, now: number): void {
    if (s.best !== undefined) {
      this.answerBlock(s, s.best, 0, now); // an SSK branch that failed: the newest copy seen is still an answer
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
    this.fanOuts.end(s);
    if (s.pred !== null) {
      const k = idHex(s.pred);
      const n = (this.perPeer.get(k) ?? 1) - 1;
      if (n <= 0) this.perPeer.delete(k);
      else this.perPeer.set(k, n);
    }
  }
}
