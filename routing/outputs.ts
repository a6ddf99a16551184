// What the sans-IO routing core hands back to its driver (routing/node-core.ts): plain objects,
// no callbacks. The driver sends the bytes, reports finished lookups, and calls tick() at or after
// the time of the latest `wake` (STYLE.md habit 7: state machines without I/O, drivers with I/O).

import type { NodeDescriptor } from './descriptor.ts';
import type { NodeId } from './keyspace.ts';

/** Why a request failed: no closer live peer would take it (NO_ROUTE), hops-to-live ran out (HTL),
 *  the originator's deadline passed (TIMEOUT), the reply's descriptor did not check (BAD_REPLY),
 *  or (a block fetch) the nodes closest to the key answered that they do not hold it (NOT_FOUND). */
export type LookupFailure = 'NO_ROUTE' | 'HTL' | 'TIMEOUT' | 'BAD_REPLY' | 'NOT_FOUND';

export type LookupResult =
  | { ok: true; node: NodeDescriptor; hops: number; payload?: Uint8Array }
  | { ok: false; reason: LookupFailure };

/** A block fetch: the verified block (never from our own shared store's writes), or why not. */
export type FetchResult = { ok: true; block: Uint8Array; hops: number } | { ok: false; reason: LookupFailure };

/** A block insert: how many nodes stored it (the aim is BLOCK_REPLICAS), or why not. */
export type InsertResult = { ok: true; stored: number; hops: number } | { ok: false; reason: LookupFailure };

export type Output =
  /** Send these bytes to that peer (a routing message; the link layer frames it). */
  | { kind: 'send'; to: NodeId; bytes: Uint8Array }
  /** A lookup this node started has finished. */
  | { kind: 'lookupDone'; requestId: Uint8Array; result: LookupResult }
  /** A block fetch this node started (fetchBlock) has finished. */
  | { kind: 'fetchDone'; requestId: Uint8Array; result: FetchResult }
  /** A block insert this node started (insertBlock) has finished. */
  | { kind: 'insertDone'; requestId: Uint8Array; result: InsertResult }
  /** Call tick() at or after this time (ms); a later wake output replaces an earlier one. */
  | { kind: 'wake'; at: number }
  /** The join (bootstrap self-lookup and first bucket refreshes) has finished. */
  | { kind: 'joined'; peers: number };
