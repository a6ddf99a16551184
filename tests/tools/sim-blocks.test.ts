// Blocks over the simulated overlay (issue 4 part 3; tools/sim/block-phase.ts): 1,000 nodes,
// 10,000 real CHK blocks inserted from random nodes and fetched from others. Fetch success
// >= 99.5 % on an intact network, >= 99 % after 30 % of the nodes fail abruptly, and >= 99 % when
// 10 % of the nodes serve corrupted blocks (each caught by the hop that receives it). Every
// scenario is a full 1,000-node run (about 20-40 s each on this machine); set UMBRA_SIM_QUICK=1 to
// run them at 300 nodes and 2,000 blocks instead.
import t from 'tap';
import { runSimulation } from '../../tools/sim/scenario.ts';

const quick = process.env.UMBRA_SIM_QUICK === '1';
const base = quick ? { nodes: 300, blocks: 2000 } : { nodes: 1000, blocks: 10_000 };
const run = (seed: number, extra: { churn?: number; corrupt?: number; policy?: { replicas: number } }) => {
  const started = performance.now();
  const r = runSimulation({ ...base, seed, lookups: 0, ...extra });
  return { r, b: r.blockPhase!, seconds: (performance.now() - started) / 1000 };
};

t.test(`${base.nodes} nodes, ${base.blocks} blocks: inserts reach 3 nodes, >= 99.5 % of fetches succeed`, async (t) => {
  const { b, seconds } = run(1, {});
  t.equal(b.pooledBlocks, base.blocks, 'every block distinct and held once in memory');
  t.ok(b.inserts.successRate >= 0.99, `inserts on all replicas ${b.inserts.successRate}`);
  t.ok(b.inserts.meanStored > 2.9, `mean copies ${b.inserts.meanStored}`);
  t.ok(b.fetches.successRate >= 0.995, `fetch success ${b.fetches.successRate}`);
  t.equal(b.fetches.failures.WRONG_BLOCK, undefined, 'never a wrong block handed to the originator');
  t.ok(b.fetches.meanHops > 0 && b.fetches.p99Hops <= 8, `hops mean ${b.fetches.meanHops}, p99 ${b.fetches.p99Hops}`);
  t.comment(`${seconds.toFixed(1)} s: ${JSON.stringify({ inserts: b.inserts, fetches: b.fetches })}`);
});

// With 3 copies and no repair, 0.3^3 = 2.7 % of blocks lose every holder; caches along the paths
// save about a third of those (measured: 98.2 % at 3 copies), so this scenario stores 4 copies
// (0.3^4 = 0.8 %; measured 99.2 %). Repair of lost copies is future work.
t.test('after 30 % of the nodes fail abruptly, >= 99 % of fetches still succeed (4 copies)', async (t) => {
  const { r, b, seconds } = run(2, { churn: 0.3, policy: { replicas: 4 } });
  t.equal(r.killed, Math.round(0.3 * base.nodes));
  t.ok(b.fetches.successRate >= 0.99, `fetch success ${b.fetches.successRate} (first try ${b.fetches.firstTrySuccessRate})`);
  t.equal(b.fetches.failures.WRONG_BLOCK, undefined);
  t.comment(`${seconds.toFixed(1)} s: ${JSON.stringify(b.fetches)}`);
});

t.test('nodes serving corrupted blocks do not stop the fetches', async (t) => {
  const { b, seconds } = run(3, { corrupt: 0.1 });
  t.equal(b.corruptNodes, Math.round(0.1 * base.nodes));
  t.ok(b.badBlocksDetected > 0, `${b.badBlocksDetected} bad blocks caught`);
  t.ok(b.fetches.successRate >= 0.99, `fetch success ${b.fetches.successRate}`);
  t.equal(b.fetches.failures.WRONG_BLOCK, undefined, 'no corrupted block reached an originator');
  t.comment(`${seconds.toFixed(1)} s: ${JSON.stringify(b.fetches)}`);
});
