// The simulator's heal phase and churn waves (tools/sim/heal-phase.ts, scenario.ts) on a small
// network: the same seed gives the same figures, repair traffic is counted, healing raises the
// blocks held in the 'store' role, and bad options are RangeErrors.
import t from 'tap';
import { runSimulation } from '../../tools/sim/scenario.ts';

const small = { nodes: 120, seed: 4, lookups: 0, blocks: 300, churn: 0.3 };

t.test('same seed, same heal and fetch figures; healing restores the live copies', async (t) => {
  const a = runSimulation(small).blockPhase!;
  const b = runSimulation(small).blockPhase!;
  t.same(a, b, 'deterministic');
  const h = a.heal;
  t.equal(h.seconds, 750, 'default: 1.25 repair intervals');
  t.ok(h.storedAfter >= h.storedBefore && h.storedAfter >= h.anyBefore - 1, `'store' copies ${h.storedBefore} -> ${h.storedAfter} of ${h.anyBefore}`);
  t.ok(h.meanStoreCopiesAfter > h.meanStoreCopiesBefore, `mean copies ${h.meanStoreCopiesBefore} -> ${h.meanStoreCopiesAfter}`);
  t.ok((h.repairMessages.HAVE ?? 0) > 0 && h.repairMessagesPerNodePerInterval > 0, 'repair traffic counted');
  t.ok(a.fetches.succeeded >= h.anyBefore - 1, `fetched ${a.fetches.succeeded}`);
});

t.test('heal 0: fetch at once, no time passes', async (t) => {
  const r = runSimulation({ ...small, heal: 0 }).blockPhase!;
  t.equal(r.heal.seconds, 0);
  t.equal(r.heal.storedAfter, r.heal.storedBefore);
  t.same(r.heal.repairMessages, {});
});

t.test('bad heal and churnWaves options', async (t) => {
  t.throws(() => runSimulation({ ...small, heal: -1 }), RangeError);
  t.throws(() => runSimulation({ ...small, churnWaves: 0 }), RangeError);
  t.throws(() => runSimulation({ ...small, churnWaves: 1.5 }), RangeError);
});
