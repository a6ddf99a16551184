// The routing core's policy: how long to wait, how hard to try, how often to maintain the table.
// DESIGN.md "Wire and code rules": timeouts are policy chosen by the driver (node/ or the
// simulator), not facts of the protocol; the cores only compare the deadlines they were given
// with the `now` they are passed. Defaults live in constants.ts.

import {
  BLOCK_REPLICAS,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_HAVE_KEYS_PER_SEC,
  DEFAULT_LOOKUP_TIMEOUT_MS,
  DEFAULT_MAINTENANCE_INTERVAL_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_REQUESTS,
  DEFAULT_MAX_REQUESTS_PER_PEER,
  DEFAULT_PEX_SERVE_PER_SEC,
  DEFAULT_PEX_TIMEOUT_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_REFRESH_INTERVAL_MS,
  DEFAULT_REPAIR_CACHE_KEYS,
  DEFAULT_REPAIR_INTERVAL_MS,
  DEFAULT_REPAIR_KEYS_PER_STEP,
  HAVE_MAX_KEYS,
  DEFAULT_REPAIR_MAX_KEYS,
  DEFAULT_REPAIR_MAX_QUERIES,
  DEFAULT_REPAIR_STEP_MS,
  DEFAULT_REPLY_TIMEOUT_MS,
  DEFAULT_SELF_LOOKUP_INTERVAL_MS,
  DEFAULT_SILENT_PING_MS,
  PEX_MAX,
  ROUTING_ALPHA,
  ROUTING_K,
} from './constants.ts';

export interface RoutingPolicy {
  /** After forwarding a request: how long to wait for ACCEPTED (or a direct answer). */
  ackTimeoutMs: number;
  /** After ACCEPTED: how long to wait for the reply before trying the next peer. */
  replyTimeoutMs: number;
  /** The originator's limit on its own lookup. */
  lookupTimeoutMs: number;
  /** Next hops one node tries for one request before it gives up (backtracking width). */
  maxAttempts: number;
  /** Request states held at once, in all and per predecessor; beyond, requests get REJECT OVERLOAD. */
  maxRequests: number;
  maxRequestsPerPeer: number;
  /** Peer exchange: answer timeout, parallel queries (self-lookup; refreshes run `refreshAlpha`
   *  at a time, since one answer usually fills a bucket), how many closest must have answered. */
  pexTimeoutMs: number;
  alpha: number;
  refreshAlpha: number;
  selfLookupWidth: number;
  refreshWidth: number;
  /** Descriptors asked for per PEX request (1..PEX_MAX). */
  pexAsk: number;
  pingTimeoutMs: number;
  /** A bucket with room that no lookup has refreshed for this long is refreshed. */
  refreshIntervalMs: number;
  /** Period of the self-lookup (which finds new close neighbours and tells them about us). */
  selfLookupIntervalMs: number;
  /** Period of the membership chores run from tick(). */
  maintenanceIntervalMs: number;
  /** Peers silent this long are pinged, at most `silentPingsPerChore` per chore. */
  silentPingMs: number;
  silentPingsPerChore: number;
  /** PEX requests answered per second (token bucket, burst of twice this); the rest are dropped. */
  pexServePerSec: number;
  /** Copies an insert aims for (the closest node's own and its replicas); 1..16. */
  replicas: number;
  /** Repair (routing/repair.ts): a walk over the blocks we hold every repairIntervalMs (±10 %
   *  jitter; 0 turns repair off), repairKeysPerStep keys per step, steps repairStepMs apart, at
   *  most repairMaxQueries HAVE queries in flight; the index remembers repairMaxKeys 'store'-role
   *  keys and repairCacheKeys 'cache'-role keys. */
  repairIntervalMs: number;
  repairKeysPerStep: number;
  repairStepMs: number;
  repairMaxQueries: number;
  repairMaxKeys: number;
  repairCacheKeys: number;
  /** HAVE keys answered per second for one peer (token bucket, burst of twice this); a HAVE over it is dropped. */
  haveKeysPerSec: number;
  /** Whether our PEX requests carry our own descriptor (a node that should stay unlisted says no). */
  announce: boolean;
}

export const DEFAULT_POLICY: Readonly<RoutingPolicy> = Object.freeze({
  ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
  replyTimeoutMs: DEFAULT_REPLY_TIMEOUT_MS,
  lookupTimeoutMs: DEFAULT_LOOKUP_TIMEOUT_MS,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  maxRequests: DEFAULT_MAX_REQUESTS,
  maxRequestsPerPeer: DEFAULT_MAX_REQUESTS_PER_PEER,
  pexTimeoutMs: DEFAULT_PEX_TIMEOUT_MS,
  alpha: ROUTING_ALPHA,
  refreshAlpha: 1,
  selfLookupWidth: ROUTING_K,
  refreshWidth: ROUTING_ALPHA,
  pexAsk: PEX_MAX,
  pingTimeoutMs: DEFAULT_PING_TIMEOUT_MS,
  refreshIntervalMs: DEFAULT_REFRESH_INTERVAL_MS,
  selfLookupIntervalMs: DEFAULT_SELF_LOOKUP_INTERVAL_MS,
  maintenanceIntervalMs: DEFAULT_MAINTENANCE_INTERVAL_MS,
  silentPingMs: DEFAULT_SILENT_PING_MS,
  silentPingsPerChore: 2,
  pexServePerSec: DEFAULT_PEX_SERVE_PER_SEC,
  replicas: BLOCK_REPLICAS,
  repairIntervalMs: DEFAULT_REPAIR_INTERVAL_MS,
  repairKeysPerStep: DEFAULT_REPAIR_KEYS_PER_STEP,
  repairStepMs: DEFAULT_REPAIR_STEP_MS,
  repairMaxQueries: DEFAULT_REPAIR_MAX_QUERIES,
  repairMaxKeys: DEFAULT_REPAIR_MAX_KEYS,
  repairCacheKeys: DEFAULT_REPAIR_CACHE_KEYS,
  haveKeysPerSec: DEFAULT_HAVE_KEYS_PER_SEC,
  announce: true,
});

/** The defaults overridden by `p`, validated (RangeError on a nonsensical value). */
export function resolvePolicy(p: Partial<RoutingPolicy> = {}): RoutingPolicy {
  const out: RoutingPolicy = { ...DEFAULT_POLICY, ...p };
  for (const [k, v] of Object.entries(out)) {
    if (k === 'announce') continue;
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`routing policy: bad ${k}`);
  }
  if (out.maxAttempts < 1 || out.alpha < 1 || out.refreshAlpha < 1 || out.selfLookupWidth < 1 || out.refreshWidth < 1) {
    throw new RangeError('routing policy: maxAttempts, alpha and lookup widths must be at least 1');
  }
  if (out.pexAsk < 1 || out.pexAsk > PEX_MAX) throw new RangeError(`routing policy: pexAsk must be 1..${PEX_MAX}`);
  if (!Number.isInteger(out.replicas) || out.replicas < 1 || out.replicas > 16) throw new RangeError('routing policy: replicas must be 1..16');
  if (out.repairKeysPerStep < 1 || out.repairStepMs < 1 || out.repairMaxQueries < 1) {
    throw new RangeError('routing policy: repairKeysPerStep, repairStepMs and repairMaxQueries must be at least 1');
  }
  if (out.maintenanceIntervalMs < 1) throw new RangeError('routing policy: maintenanceIntervalMs must be positive');
  if (out.haveKeysPerSec < HAVE_MAX_KEYS / 2) throw new RangeError(`routing policy: haveKeysPerSec must be at least ${HAVE_MAX_KEYS / 2}`);
  return out;
}
