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

import { HTL_MAX, HTL_START_SPREAD, ROUTE_ID_LEN } from './constants.ts';
import type { CoreContext } from './context.ts';
import { closer, idEquals, idHex, type NodeId } from './keyspace.ts';
import type { Purpose, RejectReason, RouteAcceptedMsg, RouteMsg, RouteRejectMsg, RouteReplyMsg } from './messages.ts';
import type { LookupFailure } from './outputs.ts';
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
  readonly pred: NodeId | null; // null: a lookup of our own
  readonly deadline: number; // our own lookups only; Infinity otherwise
  readonly tried: NodeId[];
  attempt: Attempt | null;
  acceptedSent: boolean;
  refused: boolean; // a closer peer answered but did not take the request to its end
}

export interface RouterStats {
  requestsHandled: number;
  loopsRejected: number;
  overloadRejected: number;
  timeouts: number;
  backtracks: number;
  exhausted: number; // gave up after maxAttempts
  deadEnds: number; // gave up: no candidate left and some closer peer refused
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
  };

  constructor(private readonly ctx: CoreContext) {
    this.secret = ctx.random(32);
  }

  get activeRequests(): number {
    return this.states.size;
  }

  /** Starts a lookup of our own; returns its request id. */
  start(key: Uint8Array, now: number, purpose: Purpose, payload: Uint8Array | undefined): Uint8Array {
    const id = this.ctx.random(ROUTE_ID_LEN);
    const htl = HTL_MAX - this.ctx.randomInt(HTL_START_SPREAD + 1);
    const s = this.newState(id, key, htl, purpose, payload, null, now + this.ctx.policy.lookupTimeoutMs);
    this.advance(s, now);
    return id;
  }

  onRoute(from: NodeId, m: RouteMsg, now: number): void {
    const k = idHex(m.id);
    if (this.states.has(k)) {
      this.stats.loopsRejected++;
      this.reject(from, m.id, 'LOOP');
      return;
    }
    const predKey = idHex(from);
    if (this.states.size >= this.ctx.policy.maxRequests || (this.perPeer.get(predKey) ?? 0) >= this.ctx.policy.maxRequestsPerPeer) {
      this.stats.overloadRejected++;
      this.reject(from, m.id, 'OVERLOAD');
      return;
    }
    this.stats.requestsHandled++;
    this.advance(this.newState(m.id, m.key, m.htl, m.purpose, m.payload, from, Infinity), now);
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
    if (s === undefined || !s.tried.some((p) => idEquals(p, from))) return;
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
      else if (s.attempt !== null && now >= s.attempt.deadline) this.attemptFailed(s, now);
    }
  }

  nextDeadline(): number {
    let t = Infinity;
    for (const s of this.states.values()) {
      if (s.deadline < t) t = s.deadline;
      if (s.attempt !== null && s.attempt.deadline < t) t = s.attempt.deadline;
    }
    return t;
  }

  private newState(
    id: Uint8Array,
    key: Uint8Array,
    htl: number,
    purpose: Purpose,
    payload: Uint8Array | undefined,
    pred: NodeId | null,
    deadline: number,
  ): RequestState {
    const s: RequestState = { id, key, htl, purpose, payload, pred, deadline, tried: [], attempt: null, acceptedSent: false, refused: false };
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
    this.ctx.send(peer, { type: 'ROUTE', id: s.id, key: s.key, htl, purpose: s.purpose, payload: s.payload });
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
    for (const e of list) if (e.failures === 0) return e;
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

  /** We are the closest live node we know of: answer with our own descriptor. */
  private answerHere(s: RequestState, now: number): void {
    this.finish(s);
    if (s.pred !== null) {
      this.ctx.send(s.pred, { type: 'ROUTE_REPLY', id: s.id, hops: 0, node: this.ctx.self.bytes });
    } else {
      this.ctx.emit({ kind: 'lookupDone', requestId: s.id, result: { ok: true, node: this.ctx.self, hops: 0 } });
    }
  }

  private fail(s: RequestState, reason: LookupFailure, now: number): void {
    this.finish(s);
    if (s.pred === null) {
      this.ctx.emit({ kind: 'lookupDone', requestId: s.id, result: { ok: false, reason } });
    } else {
      this.reject(s.pred, s.id, reason === 'HTL' ? 'HTL' : 'NO_ROUTE');
    }
  }

  private reject(to: NodeId, id: Uint8Array, reason: RejectReason): void {
    this.ctx.send(to, { type: 'ROUTE_REJECT', id, reason });
  }

  private finish(s: RequestState): void {
    this.states.delete(idHex(s.id));
    if (s.pred !== null) {
      const k = idHex(s.pred);
      const n = (this.perPeer.get(k) ?? 1) - 1;
      if (n <= 0) this.perPeer.delete(k);
      else this.perPeer.set(k, n);
    }
  }
}
