// The simulator's figures: percentiles and the human-readable report of a run.

import type { SimResult } from './scenario.ts';

/** Nearest-rank percentile of an ascending array (0 for an empty one). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface RunCost {
  wallMs: number;
  peakRssMiB: number;
}

/** The report as lines of text: deterministic figures first, then wall time and memory. */
export function formatReport(r: SimResult, cost?: RunCost): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const failures = Object.entries(r.failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const rows: [string, string][] = [
    ['nodes', `${r.nodes} (seed ${r.seed})`],
    ['churn', `${r.churn} (${r.killed} nodes killed abruptly${r.churnWaves > 1 ? `, in ${r.churnWaves} waves` : ''})`],
    ['formation', `${r.formation.joined} joined in ${r.formation.virtualSeconds.toFixed(0)} s virtual, ${r.formation.messagesPerNode} messages/node`],
    ['table size', `mean ${r.formation.meanPeers}, min ${r.formation.minPeers}, max ${r.formation.maxPeers}`],
    ['lookups', `${r.lookups}`],
    ['success rate', `${pct(r.successRate)} (${r.succeeded} ok, ${r.wrongNode} wrong node, failures: ${failures})`],
    ['hops', `mean ${r.meanHops}, p50 ${r.p50Hops}, p99 ${r.p99Hops}, max ${r.maxHops}`],
    ['messages/lookup', `${r.messagesPerLookup} (membership messages meanwhile: ${r.membershipMessagesDuringLookups})`],
    ['routing events', `${r.routing.timeouts} timeouts, ${r.routing.backtracks} backtracks after a reject, ${r.routing.loopsRejected} loops, ${r.routing.exhausted} gave up after max attempts, ${r.routing.deadEnds} dead ends`],
    ['lookup latency', `mean ${r.lookupLatencyMeanMs} ms, p99 ${r.lookupLatencyP99Ms} ms (virtual)`],
    ['verifications', `${r.descriptorVerifications} descriptor signatures, ${r.events} events`],
  ];
  const b = r.blockPhase;
  if (b !== undefined) {
    const fails = (f: object) => Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    const i = b.inserts, f = b.fetches;
    rows.push(['inserts', `${i.blocks} blocks: ${pct(i.successRate)} on all replicas (${i.partial} partial, failures: ${fails(i.failures)}), mean ${i.meanStored} copies, ${i.meanHops} hops, ${i.messagesPerInsert} messages/insert`]);
    const h = b.heal;
    if (h.seconds > 0) {
      rows.push(['heal', `${h.seconds} s virtual: blocks with a live 'store' copy ${h.storedBefore} -> ${h.storedAfter}, with any live copy ${h.anyBefore} -> ${h.anyAfter}, mean 'store' copies ${h.meanStoreCopiesBefore} -> ${h.meanStoreCopiesAfter}`]);
      rows.push(['repair traffic', `${h.repairMessagesPerNodePerInterval} messages/node/interval (${fails(h.repairMessages)}; membership meanwhile ${h.otherMessages})`]);
    } else rows.push(['heal', `none: blocks with a live 'store' copy ${h.storedBefore}, with any live copy ${h.anyBefore}`]);
    rows.push(['fetch success', `${pct(f.successRate)}, first try ${pct(f.firstTrySuccessRate)} (${f.succeeded} ok, ${f.retried} retried, failures: ${fails(f.failures)}; ${b.corruptNodes} corrupting nodes, ${b.badBlocksDetected} bad blocks caught)`]);
    rows.push(['content segments', `${f.segments} groups of 32 + 8 blocks, ${pct(f.segmentSuccessRate)} recoverable (at least 32 fetched)`]);
    rows.push(['fetch hops', `mean ${f.meanHops}, p50 ${f.p50Hops}, p99 ${f.p99Hops}; ${f.messagesPerFetch} messages/fetch`]);
    rows.push(['fetch latency', `mean ${f.latencyMeanMs} ms, p99 ${f.latencyP99Ms} ms (virtual)`]);
  }
  if (cost !== undefined) {
    rows.push(['wall time', `${(cost.wallMs / 1000).toFixed(1)} s`]);
    rows.push(['peak memory', `${cost.peakRssMiB.toFixed(0)} MiB (max RSS)`]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
}
