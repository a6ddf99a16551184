// The simulator's block phases (issue 4 part 3): insert B real CHK blocks from random nodes, then
// (after churn, and with a fraction of the survivors serving corrupted blocks) fetch each one from
// another random live node, through a bounded window of requests in flight (routing/fetch-window).
// Plaintexts are 32 random bytes, so encoding is quick, but every block is a real CHK block of the
// fixed encoded size (chkEncode pads) and is verified at every hop as in a real node.
//
// Figures: insert success (copies stored = policy.replicas), mean copies, fetch success (a verified
// block came back), failures by reason, hops (counted on the reply's way back; 0 = the originator's
// own store), messages per request (ROUTE, ROUTE_ACCEPTED, ROUTE_REJECT, BLOCK_REPLY, PUT_REPLY,
// ROUTE_REPLY sent during the phase, including those lost to dead nodes) and virtual latency.
// A fetch that fails is retried `retries` times (default 1) by its originator with a fresh request
// id, as a client would; by then the tables have marked the dead peers it ran into, so the retry
// takes another route. firstTrySuccessRate reports the success before any retry.
// Content view: real content is erasure-coded in segments of SEGMENT_DATA + SEGMENT_CHECK blocks
// (store/erasure.ts) whose routing keys are as independent as these random blocks, so the blocks,
// taken in groups of that size, model segments: one is recoverable when at least SEGMENT_DATA of
// its blocks came back. segmentSuccessRate is that share (a file of n segments needs all n, and
// its manifest blocks, which carry more copies: store/split.ts).

import { chkEncode } from '../../crypto/chk.ts';
import { DEFAULT_FETCH_WINDOW } from '../../routing/constants.ts';
import { FetchWindow } from '../../routing/fetch-window.ts';
import { idHex } from '../../routing/keyspace.ts';
import type { MessageType } from '../../routing/messages.ts';
import type { FetchResult, InsertResult, LookupFailure } from '../../routing/outputs.ts';
import { verifyBlock } from '../../store/block-verify.ts';
import { SEGMENT_CHECK, SEGMENT_DATA } from '../../store/constants.ts';
import type { VirtualClock } from './clock.ts';
import { percentile } from './metrics.ts';
import type { SimNetwork } from './network.ts';
import type { SimNode, SimNodeEvents } from './sim-node.ts';

const REQUEST_TYPES: MessageType[] = ['ROUTE', 'ROUTE_ACCEPTED', 'ROUTE_REPLY', 'ROUTE_REJECT', 'BLOCK_REPLY', 'PUT_REPLY'];

export interface BlockEnv {
  clock: VirtualClock;
  net: SimNetwork;
  events: SimNodeEvents;
  window: number;
  retries?: number;
  /** Virtual ms after which a phase stops waiting (requests still out count as UNFINISHED). */
  limitMs: number;
}

export interface InsertStats {
  blocks: number;
  full: number; // stored on `replicas` nodes
  partial: number; // stored on fewer, but at least one
  failures: Partial<Record<LookupFailure | 'UNFINISHED' | 'NONE_STORED', number>>;
  successRate: number; // full / blocks
  meanStored: number;
  meanHops: number;
  messagesPerInsert: number;
}

export interface FetchStats {
  fetches: number;
  succeeded: number;
  successRate: number;
  firstTrySuccessRate: number;
  retried: number;
  failures: Partial<Record<LookupFailure | 'UNFINISHED' | 'WRONG_BLOCK', number>>;
  meanHops: number;
  p50Hops: number;
  p99Hops: number;
  messagesPerFetch: number;
  latencyMeanMs: number;
  latencyP99Ms: number;
  segments: number; // whole groups of SEGMENT_DATA + SEGMENT_CHECK blocks
  segmentSuccessRate: number; // share of them with at least SEGMENT_DATA blocks fetched
}

export interface Inserted {
  key: Uint8Array;
  from: SimNode;
}

/** Inserts `count` fresh CHK blocks, each from a random node of `from`; returns their keys. */
export function insertBlocks(env: BlockEnv, from: SimNode[], count: number, replicas: number): { inserted: Inserted[]; stats: InsertStats } {
  const { clock, net } = env;
  const rng = clock.rng;
  net.resetCounts();
  const pending = new Map<string, true>();
  const inserted: Inserted[] = [];
  let done = 0, full = 0, partial = 0, storedSum = 0, hopsSum = 0, okCount = 0;
  const failures: InsertStats['failures'] = {};
  const win = new FetchWindow<number>(env.window, () => {
    const node = from[rng.int(from.length)];
    const enc = chkEncode(rng.bytes(32));
    inserted.push({ key: enc.routingKey, from: node });
    node.insertBlock('CHK', enc.routingKey, enc.block, (rid) => pending.set(idHex(rid), true));
  });
  env.events.insertDone = (_node, requestId, result: InsertResult) => {
    if (!pending.delete(idHex(requestId))) return;
    done++;
    if (result.ok) {
      okCount++;
      storedSum += result.stored;
      hopsSum += result.hops;
      if (result.stored >= replicas) full++;
      else if (result.stored > 0) partial++;
      else failures.NONE_STORED = (failures.NONE_STORED ?? 0) + 1;
    } else failures[result.reason] = (failures[result.reason] ?? 0) + 1;
    win.done();
  };
  win.add(...Array.from({ length: count }, (_, i) => i));
  clock.runWhile(() => done < count, clock.now() + env.limitMs);
  if (done < count) failures.UNFINISHED = count - done;
  env.events.insertDone = undefined;
  return {
    inserted,
    stats: {
      blocks: count,
      full,
      partial,
      failures,
      successRate: round(count === 0 ? 0 : full / count, 6),
      meanStored: round(okCount === 0 ? 0 : storedSum / okCount, 3),
      meanHops: round(okCount === 0 ? 0 : hopsSum / okCount, 3),
      messagesPerInsert: round(count === 0 ? 0 : countRequests(net) / count, 3),
    },
  };
}

/** Fetches every inserted block once, from a random live node other than its inserter. */
export function fetchBlocks(env: BlockEnv, blocks: Inserted[], live: SimNode[]): FetchStats {
  const { clock, net } = env;
  const rng = clock.rng;
  net.resetCounts();
  const retries = env.retries ?? 1;
  const pending = new Map<string, { key: Uint8Array; index: number; started: number; node: SimNode; tries: number }>();
  const index = new Map<Inserted, number>(blocks.map((b, i) => [b, i]));
  const got = new Uint8Array(blocks.length);
  const hops: number[] = [];
  const latencies: number[] = [];
  const failures: FetchStats['failures'] = {};
  let done = 0, succeeded = 0, firstTry = 0, retried = 0;
  const win = new FetchWindow<Inserted>(env.window, (b) => {
    let node = live[rng.int(live.length)];
    if (node === b.from && live.length > 1) node = live[(live.indexOf(node) + 1) % live.length];
    const key = b.key, started = clock.now();
    node.fetchBlock('CHK', key, (rid) => pending.set(idHex(rid), { key, index: index.get(b)!, started, node, tries: 1 }));
  });
  env.events.fetchDone = (_node, requestId, result: FetchResult) => {
    const p = pending.get(idHex(requestId));
    if (p === undefined) return;
    pending.delete(idHex(requestId));
    if (!result.ok && p.tries <= retries) {
      retried++;
      p.node.fetchBlock('CHK', p.key, (rid) => pending.set(idHex(rid), { ...p, tries: p.tries + 1 }));
      return;
    }
    done++;
    latencies.push(clock.now() - p.started);
    if (result.ok && p.tries === 1) firstTry++;
    if (!result.ok) failures[result.reason] = (failures[result.reason] ?? 0) + 1;
    else if (verifyBlock('CHK', p.key, result.block) === null) failures.WRONG_BLOCK = (failures.WRONG_BLOCK ?? 0) + 1;
    else {
      succeeded++;
      got[p.index] = 1;
      hops.push(result.hops);
    }
    win.done();
  };
  win.add(...blocks);
  clock.runWhile(() => done < blocks.length, clock.now() + env.limitMs);
  if (done < blocks.length) failures.UNFINISHED = blocks.length - done;
  env.events.fetchDone = undefined;
  hops.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const mean = (a: number[]) => (a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length);
  const n = blocks.length;
  const per = SEGMENT_DATA + SEGMENT_CHECK, segments = Math.floor(n / per);
  let segmentsOk = 0;
  for (let s = 0; s < segments; s++) {
    let have = 0;
    for (let i = s * per; i < (s + 1) * per; i++) have += got[i];
    if (have >= SEGMENT_DATA) segmentsOk++;
  }
  return {
    fetches: n,
    succeeded,
    successRate: round(n === 0 ? 0 : succeeded / n, 6),
    firstTrySuccessRate: round(n === 0 ? 0 : firstTry / n, 6),
    retried,
    failures,
    meanHops: round(mean(hops), 3),
    p50Hops: percentile(hops, 0.5),
    p99Hops: percentile(hops, 0.99),
    messagesPerFetch: round(n === 0 ? 0 : countRequests(net) / n, 3),
    latencyMeanMs: round(mean(latencies), 1),
    latencyP99Ms: percentile(latencies, 0.99),
    segments,
    segmentSuccessRate: round(segments === 0 ? 0 : segmentsOk / segments, 6),
  };
}

export const DEFAULT_SIM_WINDOW = DEFAULT_FETCH_WINDOW;

function countRequests(net: SimNetwork): number {
  let n = 0;
  for (const t of REQUEST_TYPES) n += net.counts.get(t) ?? 0;
  return n;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
