// What the sans-IO routing core hands back to its driver (routing/node-core.ts): plain objects,
// no callbacks. The driver sends the bytes, reports finished lookups, and calls tick() at or after
// the time of the latest `wake` (STYLE.md habit 7: state machines without I/O, drivers with I/O).

import type { NodeDescriptor } from './descriptor.ts';
import type { NodeId } from './keyspace.ts';

/** Why a lookup failed: no closer live peer would take it (NO_ROUTE), hops-to-live ran out (HTL),
 *  the originator's deadline passed (TIMEOUT), or the reply's descriptor did not check (BAD_REPLY). */
export type LookupFailure = 'NO_ROUTE' | 'HTL' | 'TIMEOUT' | 'BAD_REPLY';

export type LookupResult =
  | { ok: true; node: NodeDescriptor; hops: number; payload?: Uint8Array }
  | { ok: false; reason: LookupFailure };

export type Output =
  /** Send these bytes to that peer (a routing message; the link layer frames it). */
  | { kind: 'send'; to: NodeId; bytes: Uint8Array }
  /** A lookup this node started has finished. */
  | { kind: 'lookupDone'; requestId: Uint8Array; result: LookupResult }
  /** Call tick() at or after this time (ms); a later wake output replaces an earlier one. */
  | { kind: 'wake'; at: number }
  /** The join (bootstrap self-lookup and first bucket refreshes) has finished. */
  | { kind: 'joined'; peers: number };
