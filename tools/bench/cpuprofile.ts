// Summarises V8 .cpuprofile files (written by `node --cpu-prof`) as self time per function, for
// tools/bench/network.ts: which functions the node processes spent their CPU in. Self time is the
// time between a sample and the next one, charged to the function on top of the stack at that
// sample. Frames in the bundle (dist/umbra.mjs) are mapped back to their TypeScript source through
// its source map, so a row reads `chkEncode store/… crypto/chk.ts:41`. An optional time window (in
// the profile's own clock, CLOCK_MONOTONIC microseconds, the same clock as process.hrtime) keeps
// only the samples of one phase, e.g. the insert.
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number; // 0-based
  columnNumber: number; // 0-based
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number; // µs
  endTime: number;
  samples: number[];
  timeDeltas: number[]; // µs, delta before each sample
}

/** A phase of the run, in CLOCK_MONOTONIC microseconds (process.hrtime.bigint() / 1000n). */
export interface Window {
  fromUs: number;
  toUs: number;
}

export interface SelfTime {
  fn: string; // "functionName file:line"
  samples: number;
  ms: number;
}

export interface ProfileSummary {
  samples: number; // samples in the window, idle included
  idle: number; // samples in (idle)
  ms: number;
  rows: Map<string, SelfTime>;
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(file: string): SourceMap | null {
  if (!maps.has(file)) {
    let sm: SourceMap | null = null;
    try {
      sm = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      /* no map: raw positions */
    }
    maps.set(file, sm);
  }
  return maps.get(file) ?? null;
}

/** "functionName file:line" with the file relative to `root`, through the bundle's source map. */
function frameName(cf: CallFrame, root: string): string {
  const name = cf.functionName || '(anonymous)';
  if (!cf.url) return name; // (idle), (program), (garbage collector), (root)
  let file = cf.url;
  let line = cf.lineNumber + 1;
  if (file.startsWith('file://')) {
    file = fileURLToPath(file);
    const sm = sourceMapFor(file);
    const e = sm?.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (e?.originalSource) {
      file = path.resolve(path.dirname(file), e.originalSource.replace(/^file:\/\//, ''));
      line = (e.originalLine ?? 0) + 1;
    }
    file = path.relative(root, file);
  }
  return `${name} ${file}:${line}`;
}

/** Self time per function of one profile, counting only samples taken within [fromUs, toUs] if given. */
export function summarise(file: string, root: string, window?: Window): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const names = new Map<number, string>();
  const rows = new Map<string, SelfTime>();
  let t = p.startTime;
  let samples = 0;
  let idle = 0;
  let ms = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const id = p.samples[i] as number;
    let name = names.get(id);
    if (name === undefined) {
      const node = byId.get(id);
      name = node ? frameName(node.callFrame, root) : '(unknown)';
      names.set(id, name);
    }
    const dtMs = Math.max(0, p.timeDeltas[i + 1] ?? 0) / 1000;
    samples++;
    ms += dtMs;
    if (name === '(idle)') idle++;
    const row = rows.get(name) ?? { fn: name, samples: 0, ms: 0 };
    row.samples++;
    row.ms += dtMs;
    rows.set(name, row);
  }
  return { samples, idle, ms, rows };
}

/** Sums summaries (e.g. all nodes of a run). */
export function merge(all: ProfileSummary[]): ProfileSummary {
  const rows = new Map<string, SelfTime>();
  for (const s of all) {
    for (const r of s.rows.values()) {
      const m = rows.get(r.fn) ?? { fn: r.fn, samples: 0, ms: 0 };
      m.samples += r.samples;
      m.ms += r.ms;
      rows.set(r.fn, m);
    }
  }
  return {
    samples: all.reduce((a, s) => a + s.samples, 0),
    idle: all.reduce((a, s) => a + s.idle, 0),
    ms: all.reduce((a, s) => a + s.ms, 0),
    rows,
  };
}

/** The top `n` functions by self time as a Markdown table: % of all samples, % of busy (non-idle) samples, ms. */
export function topTable(s: ProfileSummary, n: number): string {
  const busy = s.samples - s.idle;
  const pct = (x: number, of: number) => (of > 0 ? ((100 * x) / of).toFixed(1) : '-');
  const top = [...s.rows.values()].sort((a, b) => b.samples - a.samples).slice(0, n);
  const lines = top.map(
    (r, i) => `| ${i + 1} | \`${r.fn}\` | ${pct(r.samples, s.samples)} | ${r.fn === '(idle)' ? '' : pct(r.samples, busy)} | ${r.ms.toFixed(0)} |`,
  );
  return [
    `${s.samples} samples (${s.idle} idle), ${(s.ms / 1000).toFixed(2)} s profiled`,
    '',
    '| # | function (self) | % all | % busy | ms |',
    '|---:|---|---:|---:|---:|',
    ...lines,
  ].join('\n');
}

/** The .cpuprofile files in `dir` (one per process that exited cleanly). */
export function profilesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * The report of a run: the top 30 functions summed over all nodes and the top 15 of the first node
 * (the inserting gateway), during the window if given (the whole run if no sample falls in it).
 * `dirs` holds one --cpu-prof-dir per node, in node order.
 */
export function profileReport(dirs: string[], root: string, window?: Window & { name: string }): string {
  const load = (w?: Window) =>
    dirs.map((d, k) => {
      const files = profilesIn(d);
      if (files.length !== 1) process.stderr.write(`node ${k + 1}: ${files.length} profiles in ${d} (expected 1)\n`);
      return merge(files.map((f) => summarise(f, root, w)));
    });
  let per = load(window);
  let what = window ? `the ${window.name} (${((window.toUs - window.fromUs) / 1e6).toFixed(1)} s)` : 'the whole run';
  if (window && merge(per).samples === 0) {
    what = 'the whole run (no sample fell in the phase window: do the clocks differ?)';
    per = load();
  }
  return [
    `\n## CPU profile: self time per function during ${what}, all ${dirs.length} nodes\n`,
    topTable(merge(per), 30),
    `\n## CPU profile: node 1 (the inserting gateway) during ${what}\n`,
    per[0] ? topTable(per[0], 15) : '(no profile)',
  ].join('\n');
}
