// The NodeCore driver contract (routing/node-core.ts): wake outputs, argument checks, joining
// alone, and re-signed self descriptors.
import t from 'tap';
import { signDescriptor, checkDescriptor, decodeDescriptor } from '../../routing/descriptor.ts';
import { encodeMessage, type PexResponseMsg } from '../../routing/messages.ts';
import { NodeCore } from '../../routing/node-core.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { makeIdentities, T0, TestNet } from './harness.ts';

const IDS = makeIdentities(4, 2);

t.test('wake outputs name the earliest deadline; a later one replaces an earlier one', async (t) => {
  const rng = new SeededRandom(1);
  const core = new NodeCore({ self: IDS[0].desc, random: rng.source(), policy: { maintenanceIntervalMs: 60_000, ackTimeoutMs: 2_000 } }, T0);
  const wakes = (o: ReturnType<NodeCore['tick']>) => o.filter((x) => x.kind === 'wake').map((x) => (x as { at: number }).at);
  t.same(wakes(core.tick(T0)), [T0 + 60_000], 'the first chore');
  t.same(wakes(core.tick(T0 + 1)), [], 'nothing new');
  core.table.offer(IDS[1].desc, T0);
  const { outputs } = core.lookup(IDS[1].desc.id, T0 + 10);
  t.same(wakes(outputs), [T0 + 10 + 2_000], 'the ACCEPTED deadline comes first');
  const after = core.tick(T0 + 2_010); // timeout: IDS[1] was the only candidate, we answer ourselves
  t.ok(after.some((o) => o.kind === 'lookupDone'));
  t.same(wakes(after), [T0 + 60_000], 'back to the chore');
});

t.test('argument checks', async (t) => {
  const core = new NodeCore({ self: IDS[0].desc, random: new SeededRandom(1).source() }, T0);
  t.throws(() => core.lookup(new Uint8Array(31), T0), TypeError);
  t.throws(() => core.lookup(new Uint8Array(32), T0, { purpose: 'GET' as never }), TypeError);
  t.throws(() => core.tick(NaN), TypeError);
  t.throws(() => core.setSelfDescriptor(IDS[1].desc), RangeError);
  t.throws(() => new NodeCore({ self: IDS[0].desc, random: new SeededRandom(1).source(), policy: { alpha: 0 } }, T0), RangeError);
  t.same(core.bootstrap([], T0).filter((o) => o.kind === 'joined'), [{ kind: 'joined', peers: 0 }], 'alone: joined at once');
});

t.test('a re-signed self descriptor is what peers get from then on', async (t) => {
  const net = new TestNet();
  const r = net.add('R', IDS[0]);
  const q = net.add('Q', IDS[1]);
  const fresh = checkDescriptor(decodeDescriptor(signDescriptor({ ...IDS[0].fields, timestamp: T0 + 1000 }, IDS[0].seed)), T0 + 1000);
  r.setSelfDescriptor(fresh);
  net.inject(q.id, r, encodeMessage({ type: 'PEX_REQUEST', nonce: new Uint8Array(8), target: r.id, max: 2 }));
  net.flush();
  const resp = net.log.find((s) => s.msg.type === 'PEX_RESPONSE')!.msg as PexResponseMsg;
  t.same(resp.descriptors[0], fresh.bytes);
});
