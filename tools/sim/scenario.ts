// One simulation run (issue 3 part 5): N nodes join a network one after another (one every
// joinIntervalMs of virtual time, each through `contacts` random earlier nodes), the network
// settles for one refresh period and two chores more (so the first nodes refresh once after the
// last one joined), a fraction of the nodes then fails abruptly (churn: messages to them vanish,
// nobody is told), and at once live nodes start key-routed lookups, one every lookupIntervalMs.
// Everything (identities, latencies, contacts, churn victims, lookup keys) comes from one seeded
// PRNG and one virtual clock, so the result is a pure function of the options. Identity keys are
// real Ed25519 keys from PRNG seeds, and descriptors are really signed and verified (once each,
// through one DescriptorCache shared by all nodes); onion keys are random bytes (unused here).
//
// A lookup succeeds when it ends at the live node globally closest to its key (XOR metric), found
// by a scan of all live nodes. Half the lookups target random keys, half the ids of random live
// nodes (then success means reaching that very node). Hops are counted on the reply's way back
// (0 when the originator is itself the closest). Messages per lookup counts the routing messages
// (ROUTE, ROUTE_ACCEPTED, ROUTE_REPLY, ROUTE_REJECT) sent during the lookup phase, including those
// lost to dead nodes, divided by the number of lookups; membership traffic is reported apart.
//
// Churn may come in `churnWaves` equal waves, `heal` seconds of virtual time apart (repair runs in
// between); the default is one wave, all at once.
//
// With `blocks` > 0 (issue 4 part 3, tools/sim/block-phase.ts): after formation and before churn,
// B CHK blocks are inserted from random nodes; after churn (and the lookups), a `corrupt` fraction
// of the survivors starts flipping a byte of every block it sends back, and each block is fetched
// once from another random live node, `window` requests in flight at a time. Between the churn
// (and lookups) and the fetches, `heal` seconds of virtual time pass with no user traffic
// (tools/sim/heal-phase.ts), so repair (routing/repair.ts) can top up the copies. Every node's store is
// a PooledStore over one shared BlockPool (one copy of each block in memory), its cache bounded to
// `cacheBlocks` blocks.

import { nodeBackend } from '../../crypto/backend-node.ts';
import { ROUTING_PROTOCOL_VERSION } from '../../routing/constants.ts';
import { DescriptorCache, signDescriptor } from '../../routing/descriptor.ts';
import { BLOCK_REPLICAS, DEFAULT_FETCH_WINDOW } from '../../routing/constants.ts';
import { compareDistance, idEquals, idHex, type NodeId } from '../../routing/keyspace.ts';
import type { MessageType } from '../../routing/messages.ts';
import type { LookupFailure, LookupResult } from '../../routing/outputs.ts';
import { DEFAULT_POLICY, type RoutingPolicy } from '../../routing/policy.ts';
import { fetchBlocks, insertBlocks, type FetchStats, type InsertStats } from './block-phase.ts';
import { heal, type HealStats } from './heal-phase.ts';
import { BlockPool, PooledStore } from './block-pool.ts';
import { VirtualClock } from './clock.ts';
import { percentile } from './metrics.ts';
import { SimNetwork } from './network.ts';
import { SimNode, type SimNodeEvents } from './sim-node.ts';

export interface SimOptions {
  nodes: number;
  seed: number;
  churn?: number; // fraction of nodes killed after the network forms
  lookups?: number;
  contacts?: number; // bootstrap contacts per joining node
  joinIntervalMs?: number; // virtual time between two joins
  lookupIntervalMs?: number; // virtual time between two lookup starts
  minLatencyMs?: number;
  maxLatencyMs?: number;
  policy?: Partial<RoutingPolicy>;
  k?: number;
  blocks?: number; // CHK blocks inserted then fetched (0: no block phases)
  corrupt?: number; // fraction of live nodes serving corrupted blocks during the fetches
  window?: number; // block requests in flight at once (inserts and fetches)
  cacheBlocks?: number; // 'cache' role bound per node, in blocks
  retries?: number; // times a failed fetch is retried by its originator (default 1)
  /** Virtual seconds between the churn (and lookups) and the fetches, for repair to run; default
   *  HEAL_INTERVALS repair intervals when blocks > 0, 0 for none. */
  heal?: number;
  /** The churn comes in this many equal waves, `heal` seconds apart (default 1: all at once). */
  churnWaves?: number;
  /** Progress lines (not part of the result); e.g. to stderr. */
  log?: (line: string) => void;
}

export interface SimResult {
  nodes: number;
  seed: number;
  churn: number;
  churnWaves: number;
  killed: number;
  lookups: number;
  successRate: number;
  succeeded: number;
  wrongNode: number; // a reply, but not from the closest live node
  failures: Partial<Record<LookupFailure | 'UNFINISHED', number>>;
  meanHops: number;
  p50Hops: number;
  p99Hops: number;
  maxHops: number;
  messagesPerLookup: number;
  membershipMessagesDuringLookups: number;
  lookupLatencyMeanMs: number;
  lookupLatencyP99Ms: number;
  formation: {
    virtualSeconds: number;
    joined: number;
    messages: number;
    messagesPerNode: number;
    meanPeers: number;
    minPeers: number;
    maxPeers: number;
  };
  /** Router counters summed over all nodes (all from the lookup phase: formation routes nothing). */
  routing: { timeouts: number; backtracks: number; loopsRejected: number; exhausted: number; deadEnds: number };
  descriptorVerifications: number;
  events: number;
  /** Present when blocks > 0. */
  blockPhase?: {
    inserts: InsertStats;
    fetches: FetchStats;
    corrupt: number;
    corruptNodes: number;
    badBlocksDetected: number; // blocks that failed verification at a hop, over all nodes
    blocksServed: number;
    pooledBlocks: number;
    heal: HealStats;
  };
}

const EPOCH = Date.UTC(2025, 0, 1); // virtual time starts here (descriptor timestamps look real)
const ROUTE_TYPES: MessageType[] = ['ROUTE', 'ROUTE_ACCEPTED', 'ROUTE_REPLY', 'ROUTE_REJECT'];

/** The routing policy the simulator runs with unless told otherwise. */
export const SIM_POLICY: Partial<RoutingPolicy> = {
  refreshIntervalMs: 10 * 60_000,
  maintenanceIntervalMs: 60_000,
  pexServePerSec: 1000, // bootstrap contacts are asked by everyone who joins through them
};

export function runSimulation(opts: SimOptions): SimResult {
  const n = opts.nodes;
  if (!Number.isInteger(n) || n < 2) throw new RangeError('simulation: nodes must be an integer >= 2');
  const churn = opts.churn ?? 0;
  if (!(churn >= 0 && churn < 1)) throw new RangeError('simulation: churn must be in [0, 1)');
  const lookups = opts.lookups ?? 1000;
  const contactsPerJoin = opts.contacts ?? 3;
  const joinInterval = opts.joinIntervalMs ?? 20;
  const lookupInterval = opts.lookupIntervalMs ?? 10;
  const policy = { ...SIM_POLICY, ...opts.policy };
  const log = opts.log ?? (() => {});
  const blocks = opts.blocks ?? 0;
  if (!Number.isInteger(blocks) || blocks < 0) throw new RangeError('simulation: blocks must be an integer >= 0');
  const corrupt = opts.corrupt ?? 0;
  if (!(corrupt >= 0 && corrupt < 1)) throw new RangeError('simulation: corrupt must be in [0, 1)');
  const window = opts.window ?? DEFAULT_FETCH_WINDOW;
  if (!Number.isInteger(window) || window < 1) throw new RangeError('simulation: window must be an integer >= 1');
  const cacheBlocks = opts.cacheBlocks ?? 100;
  const healSeconds = opts.heal ?? (blocks > 0 ? defaultHealSeconds(policy) : 0);
  const churnWaves = opts.churnWaves ?? 1;
  if (!Number.isInteger(churnWaves) || churnWaves < 1) throw new RangeError('simulation: churnWaves must be an integer >= 1');
  if (!(healSeconds >= 0 && Number.isFinite(healSeconds))) throw new RangeError('simulation: heal must be a number of seconds >= 0');
  const pool = new BlockPool();

  const clock = new VirtualClock(opts.seed, EPOCH);
  const rng = clock.rng;
  const net = new SimNetwork(clock, { minMs: opts.minLatencyMs ?? 10, maxMs: opts.maxLatencyMs ?? 100 });
  // One descriptor cache for the whole network: each distinct descriptor is verified once, and
  // every table that holds it shares one object.
  const descriptors = new DescriptorCache(nodeBackend.ed25519, 2 * n + 1024);
  const random = rng.source();

  const nodes: SimNode[] = [];
  const stores: PooledStore[] = []; // by node index
  let joined = 0;
  const pending = new Map<string, { key: Uint8Array; started: number }>();
  const results: { key: Uint8Array; result: LookupResult | undefined; latency: number }[] = [];
  const events: SimNodeEvents = {
    joined: () => void joined++,
    lookupDone: (_node: SimNode, requestId: Uint8Array, result: LookupResult) => {
      const k = idHex(requestId);
      const p = pending.get(k);
      if (p === undefined) return;
      pending.delete(k);
      results.push({ key: p.key, result, latency: clock.now() - p.started });
    },
  };

  // --- formation: node i joins at i * joinInterval through up to `contacts` earlier nodes ---
  for (let i = 0; i < n; i++) {
    clock.at(EPOCH + i * joinInterval, () => {
      const seed = rng.bytes(32);
      const bytes = signDescriptor(
        {
          protocolVersion: ROUTING_PROTOCOL_VERSION,
          identityKey: nodeBackend.ed25519.publicKey(seed),
          onionKey: rng.bytes(32), // routing never uses it; a real node puts its X25519 key here
          addresses: [`10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}:7000`],
          timestamp: clock.now(),
        },
        seed,
      );
      const self = descriptors.read(bytes, clock.now()); // the shared object every table will hold
      const store = new PooledStore(pool, cacheBlocks);
      stores.push(store);
      const node = new SimNode(i, self, { random, descriptors, policy, table: { k: opts.k }, store }, net, events);
      const contacts: Uint8Array[] = [];
      const want = Math.min(contactsPerJoin, i);
      const picked = new Set<number>();
      while (picked.size < want) picked.add(rng.int(i));
      for (const j of picked) contacts.push(nodes[j].core.self.bytes);
      nodes.push(node);
      net.add(node);
      node.bootstrap(contacts);
    });
  }
  const lastJoin = EPOCH + (n - 1) * joinInterval;
  const settleUntil = lastJoin + (policy.refreshIntervalMs ?? 0) + 2 * (policy.maintenanceIntervalMs ?? 0);
  let nextLog = EPOCH;
  while (clock.pending > 0 && clock.now() < settleUntil) {
    clock.runUntil(Math.min(settleUntil, clock.now() + 30_000));
    if (clock.now() >= nextLog) {
      log(`  t=${((clock.now() - EPOCH) / 1000).toFixed(0)}s nodes=${nodes.length} joined=${joined} messages=${net.sent}`);
      nextLog = clock.now() + 120_000;
    }
  }
  const formationMessages = net.sent;
  let minPeers = Infinity, maxPeers = 0, sumPeers = 0;
  for (const node of nodes) {
    const s = node.core.table.size;
    minPeers = Math.min(minPeers, s);
    maxPeers = Math.max(maxPeers, s);
    sumPeers += s;
  }
  const formationSeconds = (clock.now() - EPOCH) / 1000;
  log(`  formed: ${n} nodes, mean table ${(sumPeers / n).toFixed(1)}, ${formationMessages} messages`);

  // --- inserts, before churn ---
  const env = { clock, net, events, window, retries: opts.retries, limitMs: 10 * ((policy.lookupTimeoutMs ?? 60_000) + 60_000) + blocks * 1000 };
  let inserted: ReturnType<typeof insertBlocks> | undefined;
  if (blocks > 0) {
    inserted = insertBlocks(env, nodes, blocks, policy.replicas ?? BLOCK_REPLICAS);
    log(`  inserted ${blocks} blocks: ${(100 * inserted.stats.successRate).toFixed(2)} % on ${policy.replicas ?? BLOCK_REPLICAS} nodes, pool ${pool.size}`);
  }

  // --- churn: kill a fraction abruptly ---
  const order = nodes.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  // in `churnWaves` equal waves; between two waves, `heal` seconds pass (repair runs)
  const killed = Math.round(churn * n);
  for (let w = 0; w < churnWaves; w++) {
    if (w > 0 && healSeconds > 0) clock.runUntil(clock.now() + healSeconds * 1000);
    const from = Math.round((w * killed) / churnWaves), to = Math.round(((w + 1) * killed) / churnWaves);
    for (let i = from; i < to; i++) nodes[order[i]].kill();
  }
  const live = nodes.filter((x) => x.alive);

  // --- lookups from random live nodes ---
  net.resetCounts();
  const routingBefore = sumRouting(nodes);
  const t0 = clock.now() + 1000;
  for (let j = 0; j < lookups; j++) {
    clock.at(t0 + j * lookupInterval, () => {
      const from = live[rng.int(live.length)];
      const key = j % 2 === 0 ? rng.bytes(32) : live[rng.int(live.length)].id;
      from.lookup(key, (requestId) => pending.set(idHex(requestId), { key, started: clock.now() }));
    });
  }
  const lookupLimit = t0 + lookups * lookupInterval + 10 * ((policy.lookupTimeoutMs ?? 60_000) + 60_000);
  clock.runWhile(() => results.length < lookups, lookupLimit);
  const lookupCounts = net.counts, lookupSent = net.sent;
  const routing = sumRouting(nodes);
  for (const k of Object.keys(routing) as (keyof typeof routing)[]) routing[k] -= routingBefore[k];

  // --- fetches, after churn, with a fraction of the survivors corrupting what they serve ---
  let blockPhase: SimResult['blockPhase'];
  if (inserted !== undefined) {
    const corruptNodes = Math.round(corrupt * live.length);
    const honest = live.slice();
    for (let i = 0; i < corruptNodes; i++) {
      const j = i + rng.int(honest.length - i);
      [honest[i], honest[j]] = [honest[j], honest[i]];
      honest[i].corrupt = true;
    }
    const healed = heal({ clock, net, live, stores, keys: inserted.inserted.map((b) => b.key), seconds: healSeconds, intervalMs: policy.repairIntervalMs ?? DEFAULT_POLICY.repairIntervalMs });
    if (healSeconds > 0) log(`  healed for ${healSeconds} s: blocks with a live 'store' copy ${healed.storedBefore} -> ${healed.storedAfter}, with any live copy ${healed.anyBefore} -> ${healed.anyAfter}`);
    const badBefore = sumStat(nodes, 'badBlocks'), servedBefore = sumStat(nodes, 'blocksServed');
    const fetches = fetchBlocks(env, inserted.inserted, live);
    log(`  fetched ${blocks} blocks: ${(100 * fetches.successRate).toFixed(2)} %`);
    blockPhase = {
      inserts: inserted.stats,
      fetches,
      corrupt,
      corruptNodes,
      badBlocksDetected: sumStat(nodes, 'badBlocks') - badBefore,
      blocksServed: sumStat(nodes, 'blocksServed') - servedBefore,
      pooledBlocks: pool.size,
      heal: healed,
    };
  }

  // --- metrics ---
  let route = 0;
  for (const t of ROUTE_TYPES) route += lookupCounts.get(t) ?? 0;
  const membership = lookupSent - route;
  const failures: Partial<Record<LookupFailure | 'UNFINISHED', number>> = {};
  const hops: number[] = [];
  const latencies: number[] = [];
  let succeeded = 0, wrongNode = 0;
  const liveIds = live.map((x) => x.id);
  for (const r of results) {
    latencies.push(r.latency);
    if (r.result === undefined || !r.result.ok) {
      const why = r.result === undefined ? 'UNFINISHED' : r.result.reason;
      failures[why] = (failures[why] ?? 0) + 1;
      continue;
    }
    if (idEquals(r.result.node.id, closestLive(liveIds, r.key))) {
      succeeded++;
      hops.push(r.result.hops);
    } else wrongNode++;
  }
  if (results.length < lookups) failures.UNFINISHED = lookups - results.length;
  hops.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const mean = (a: number[]) => (a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length);
  return {
    nodes: n,
    seed: opts.seed,
    churn,
    churnWaves,
    killed,
    lookups,
    successRate: round(lookups === 0 ? 0 : succeeded / lookups, 6),
    succeeded,
    wrongNode,
    failures,
    meanHops: round(mean(hops), 3),
    p50Hops: percentile(hops, 0.5),
    p99Hops: percentile(hops, 0.99),
    maxHops: hops.length === 0 ? 0 : hops[hops.length - 1],
    messagesPerLookup: round(lookups === 0 ? 0 : route / lookups, 3),
    membershipMessagesDuringLookups: membership,
    lookupLatencyMeanMs: round(mean(latencies), 1),
    lookupLatencyP99Ms: percentile(latencies, 0.99),
    formation: {
      virtualSeconds: formationSeconds,
      joined,
      messages: formationMessages,
      messagesPerNode: round(formationMessages / n, 1),
      meanPeers: round(sumPeers / n, 1),
      minPeers,
      maxPeers,
    },
    routing,
    descriptorVerifications: descriptors.verifications,
    events: clock.steps,
    ...(blockPhase === undefined ? {} : { blockPhase }),
  };
}

/** Repair intervals of virtual time the default heal period lasts: one (±10 % jitter), plus slack. */
export const HEAL_INTERVALS = 1.25;

export function defaultHealSeconds(policy: Partial<RoutingPolicy>): number {
  return Math.round((HEAL_INTERVALS * (policy.repairIntervalMs ?? DEFAULT_POLICY.repairIntervalMs)) / 1000);
}

function sumRouting(nodes: SimNode[]): SimResult['routing'] {
  const routing = { timeouts: 0, backtracks: 0, loopsRejected: 0, exhausted: 0, deadEnds: 0 };
  for (const node of nodes) {
    const st = node.core.stats();
    for (const k of Object.keys(routing) as (keyof typeof routing)[]) routing[k] += st[k];
  }
  return routing;
}

function sumStat(nodes: SimNode[], k: 'badBlocks' | 'blocksServed'): number {
  let n = 0;
  for (const node of nodes) n += node.core.stats()[k];
  return n;
}

function closestLive(ids: NodeId[], key: Uint8Array): NodeId {
  let best = ids[0];
  for (let i = 1; i < ids.length; i++) if (compareDistance(ids[i], best, key) < 0) best = ids[i];
  return best;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
