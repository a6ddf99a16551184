// Fuzzes every registered decoder (tools/fuzz/targets.ts) with a fixed seed: at least 100,000
// inputs in all, and not one may crash, hang, change its input or re-encode differently. The
// harness is first shown to catch each of those faults in a deliberately broken target.
import t from 'tap';
import { Prng, runFuzz, type FuzzTarget } from '../../tools/fuzz/harness.ts';
import { targets } from '../../tools/fuzz/targets.ts';

const TOTAL = 100_000;
const SEED = 0x5eed2025;

t.test('the harness catches crashes, slow decodes, mutated inputs and round-trip drift', async (t) => {
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end); // bounded by the clock
  };
  const broken: FuzzTarget = {
    name: 'broken',
    seeds: [Uint8Array.of(0x42), Uint8Array.of(1, 2, 3)],
    decode(b) {
      if (b[0] === 0x42 && b.length === 1) busy(30);
      if (b.length > 3 && b[3] === 0xff) throw new TypeError('crash');
      if (b.length === 5) b[0] ^= 1;
      if (b.length % 7 === 0) throw Object.assign(new Error('typed'), { code: 'TYPED' });
      return b.length;
    },
    encode: (n) => new Uint8Array(n as number), // zeros: differs from most inputs
    isTypedError: (e) => e instanceof Error && (e as Error & { code?: string }).code === 'TYPED',
  };
  const r = runFuzz([broken], { iterations: 3000, seed: 1, maxLen: 64, slowMs: 10, maxFindings: 10_000 });
  const kinds = new Set(r.findings.map((f) => f.kind));
  t.same([...kinds].sort(), ['crash', 'mutated-input', 'roundtrip', 'slow']);
  t.ok(r.targets[0].rejected.TYPED > 0, 'typed errors are counted, not reported');
  t.ok(r.targets[0].slowestMs >= 30);
  t.equal(r.findingCount, r.findings.length);
});

t.test('the PRNG is deterministic and seeds differ', async (t) => {
  const a = new Prng(7), b = new Prng(7), c = new Prng(8);
  const xs = Array.from({ length: 8 }, () => a.u32());
  t.same(Array.from({ length: 8 }, () => b.u32()), xs);
  t.not(Array.from({ length: 8 }, () => c.u32()).join(), xs.join());
  t.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
});

t.test(`all registered decoders survive ${TOTAL} fuzzed inputs`, async (t) => {
  const iterations = Math.ceil(TOTAL / targets.length);
  const report = runFuzz(targets, { iterations, seed: SEED, maxLen: 512 });
  t.comment(`${report.inputs} inputs over ${targets.length} targets in ${(report.elapsedMs / 1000).toFixed(1)} s`);
  for (const s of report.targets) {
    const codes = Object.entries(s.rejected).map(([c, n]) => `${c}:${n}`).join(' ');
    t.comment(`${s.name}: ${s.accepted} accepted, slowest ${s.slowestMs.toFixed(2)} ms; ${codes}`);
  }
  for (const f of report.findings.slice(0, 5)) {
    t.comment(`${f.target} ${f.kind} ${f.error} ${Buffer.from(f.input).toString('hex').slice(0, 400)}`);
  }
  t.ok(report.inputs >= TOTAL);
  t.equal(report.findingCount, 0, 'no crash, hang, input change or round-trip drift');
  for (const s of report.targets) {
    t.ok(s.accepted > 0 && Object.keys(s.rejected).length > 3, `${s.name} saw valid and invalid inputs`);
  }
  // the mutations reach every rejection class below the size limit, the schema checks included
  const seen = new Set(report.targets.flatMap((s) => Object.keys(s.rejected)));
  for (const code of ['TRUNCATED', 'TRAILING_BYTES', 'TOO_DEEP', 'BAD_CBOR', 'UNSUPPORTED', 'NOT_CANONICAL', 'DUPLICATE_KEY',
    'OUT_OF_RANGE', 'BAD_TYPE', 'BAD_LENGTH', 'MISSING_FIELD', 'UNKNOWN_FIELD', 'BAD_ENUM']) {
    t.ok(seen.has(code), `reached ${code}`);
  }
});

t.test('a run is reproducible from its seed', async (t) => {
  const run = () => runFuzz(targets, { iterations: 2000, seed: 99, maxLen: 256 }).targets.map((s) => [s.accepted, s.rejected]);
  t.same(run(), run());
});
