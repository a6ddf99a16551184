// Fuzzes every decoder that faces a peer or the disk beyond the raw CBOR layer (tools/fuzz/
// net-targets.ts: binary link/crypto formats; protocol-targets.ts: routing messages, descriptors,
// manifests, URIs) with a
// fixed seed: not one input may crash, hang or change its input. Each target must also see both
// acceptances or typed rejections of more than one kind, so the run reaches past the first check.
import t from 'tap';
import { runFuzz } from '../../tools/fuzz/harness.ts';
import { netTargets as binaryTargets } from '../../tools/fuzz/net-targets.ts';
import { protocolTargets } from '../../tools/fuzz/protocol-targets.ts';

const netTargets = [...binaryTargets, ...protocolTargets];

const PER_TARGET = 2_500;

t.test(`${netTargets.length} network-facing decoders survive ${PER_TARGET} fuzzed inputs each`, async (t) => {
  const report = runFuzz(netTargets, { iterations: PER_TARGET, seed: 0x0b5c07a, maxLen: 1400 });
  t.comment(`${report.inputs} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s`);
  for (const s of report.targets) {
    const codes = Object.keys(s.rejected);
    t.comment(`${s.name}: accepted ${s.accepted}, rejected ${JSON.stringify(s.rejected)}, slowest ${s.slowestMs.toFixed(1)} ms`);
    t.ok(codes.length + (s.accepted > 0 ? 1 : 0) >= 2, `${s.name} is exercised beyond its first check`);
  }
  for (const f of report.findings) t.fail(`${f.target} ${f.kind}: ${f.error} input=${Buffer.from(f.input).toString('hex').slice(0, 200)}`);
  t.equal(report.findingCount, 0);
});
