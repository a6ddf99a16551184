// Benchmark harness: times an operation for a fixed wall-clock budget after a warm-up, and prints
// rows side by side (Umbra's default path vs a baseline measured in the same run) as a Markdown
// table. Figures are throughput on this machine; nothing here asserts a speed.

export interface Measure {
  opsPerSec: number;
  mbPerSec?: number;
}

export interface Row {
  name: string;
  umbra: Measure;
  baseline?: Measure;
  baselineName?: string;
  target?: string;
}

/** Runs fn repeatedly for about `ms` milliseconds (after `warmMs` of warm-up); returns ops/s. */
export function measure(fn: () => unknown, opts: { ms?: number; warmMs?: number; bytesPerOp?: number } = {}): Measure {
  const ms = opts.ms ?? 1000;
  const warmMs = opts.warmMs ?? Math.min(300, ms / 3);
  const run = (budget: number): { ops: number; elapsed: number } => {
    let ops = 0;
    let batch = 1;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < budget) {
      for (let i = 0; i < batch; i++) fn();
      ops += batch;
      elapsed = performance.now() - start;
      if (elapsed < budget / 20) batch *= 2;
    }
    return { ops, elapsed };
  };
  run(warmMs);
  const { ops, elapsed } = run(ms);
  const opsPerSec = (ops * 1000) / elapsed;
  return opts.bytesPerOp ? { opsPerSec, mbPerSec: (opsPerSec * opts.bytesPerOp) / 1e6 } : { opsPerSec };
}

const fmtOps = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const fmtMb = (m: Measure | undefined): string => (m?.mbPerSec === undefined ? '' : m.mbPerSec.toFixed(0));

export function table(rows: Row[]): string {
  const head = '| operation | Umbra ops/s | Umbra MB/s | baseline | baseline ops/s | baseline MB/s | Umbra ÷ baseline | target |';
  const sep = '|---|---:|---:|---|---:|---:|---:|---|';
  const lines = rows.map((r) => {
    const ratio = r.baseline ? `${(r.umbra.opsPerSec / r.baseline.opsPerSec).toFixed(1)}×` : '';
    return `| ${r.name} | ${fmtOps(r.umbra.opsPerSec)} | ${fmtMb(r.umbra)} | ${r.baselineName ?? ''} | ${
      r.baseline ? fmtOps(r.baseline.opsPerSec) : ''
    } | ${fmtMb(r.baseline)} | ${ratio} | ${r.target ?? ''} |`;
  });
  return [head, sep, ...lines].join('\n');
}

