// One-hop fan-outs at the end of a block request's route (DESIGN.md layer 4): the node closest to
// a key asks the next closest peers directly, each under a fresh request id (so a peer cannot link
// it to the route), with htl 1 and never routed on:
// - STORE_BLOCK: the replicas of an insert (routing/block-requests.ts storeHere); answered by PUT_REPLY.
// - PEEK_BLOCK: "which version of this SSK do you hold?" when an SSK fetch reaches its end, so
//   the fetch returns the newest version any of the closest nodes holds, not the first copy it
//   meets; answered by BLOCK_REPLY (the block) or ROUTE_REJECT NOT_FOUND.
// This file keeps the bookkeeping: which fresh id went to which peer for which request, how many
// answers are pending and until when. The router decides what each answer means.

import { idEquals, idHex, type NodeId } from './keyspace.ts';

export interface FanOutWait<P> {
  readonly parent: P;
  readonly peer: NodeId;
}

export interface FanOutState {
  pending: number;
  deadline: number;
}

export class FanOuts<P extends { fanout: FanOutState | null }> {
  private readonly waits = new Map<string, FanOutWait<P>>();

  /** Starts waiting for `ids.length` answers for `parent`, one from each of `peers`, until `deadline`. */
  begin(parent: P, peers: readonly NodeId[], ids: readonly Uint8Array[], deadline: number): void {
    parent.fanout = { pending: peers.length, deadline };
    for (let i = 0; i < peers.length; i++) this.waits.set(idHex(ids[i]), { parent, peer: peers[i] });
  }

  /**
   * An answer to fresh id `id` from `from`: the request it belongs to (one answer is now less
   * pending), or undefined when it matches no wait of ours or comes from another peer.
   */
  answer(id: Uint8Array, from: NodeId): P | undefined {
    const k = idHex(id);
    const w = this.waits.get(k);
    if (w === undefined || !idEquals(w.peer, from)) return undefined;
    this.waits.delete(k);
    w.parent.fanout!.pending--;
    return w.parent;
  }

  /** Whether `id` is one of ours (an answer to it must not be taken for a routed request's). */
  has(id: Uint8Array): boolean {
    return this.waits.has(idHex(id));
  }

  /** Ends every wait of `parent`; returns the peers that never answered. */
  end(parent: P): NodeId[] {
    const silent: NodeId[] = [];
    if (parent.fanout === null || parent.fanout.pending <= 0) return silent;
    for (const [k, w] of [...this.waits]) {
      if (w.parent !== parent) continue;
      this.waits.delete(k);
      silent.push(w.peer);
    }
    parent.fanout.pending = 0;
    return silent;
  }
}
