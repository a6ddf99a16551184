// The per-request state the router (routing/router.ts) keeps while a key-routed request passes
// through this node, and its counters. Block requests (routing/block-requests.ts) use the same
// state: a request is one thing whatever it carries. DESIGN.md layer 3.

import type { BlockKind } from '../store/block-store.ts';
import type { FanOutState } from './fan-out.ts';
import type { NodeId } from './keyspace.ts';
import type { Purpose } from './messages.ts';

export interface Attempt {
  peer: NodeId;
  accepted: boolean;
  deadline: number;
}

export interface RequestState {
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

export function newRouterStats(): RouterStats {
  return {
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
}
