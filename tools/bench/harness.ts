// Benchmark harness: times an operation for a fixed wall-clock budget after a warm-up, and prints
// rows side by side (Umbra's default path vs baselines measured in the same run) as a Markdown
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

/** Runs fn repeatedly for about `ms` milliseconds (after a warm-up); returns ops/s. */
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
const cell = (m: Measure | undefined): string =>
  m === undefined ? '' : m.mbPerSec === undefined ? fmtOps(m.opsPerSec) : `${fmtOps(m.opsPerSec)} (${m.mbPerSec.toFixed(0)} MB/s)`;

/** A Markdown table; `extra` adds one more measured column (e.g. another backend) after the baseline. */
export function table(rows: Row[], more?: { extraName: string; extra: Measure[] }): string {
  const base = rows.find((r) => r.baselineName)?.baselineName ?? 'baseline';
  const head = `| operation | Umbra ops/s | ${base} ops/s | Umbra ÷ ${base} |${more ? ` ${more.extraName} ops/s |` : ''} target |`;
  const sep = `|---|---:|---:|---:|${more ? '---:|' : ''}---|`;
  const lines = rows.map((r, i) => {
    const ratio = r.baseline ? `${(r.umbra.opsPerSec / r.baseline.opsPerSec).toFixed(1)}×` : '';
    const extra = more ? ` ${cell(more.extra[i])} |` : '';
    return `| ${r.name} | ${cell(r.umbra)} | ${cell(r.baseline)} | ${ratio} |${extra} ${r.target ?? ''} |`;
  });
  return [head, sep, ...lines].join('\n');
}
