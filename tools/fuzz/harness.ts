// A small deterministic fuzzer for Umbra's decoders (STYLE.md habit 14: fuzz tests per decoder).
// Each target's decode must, on any bytes, return a value or throw its layer's typed error: never a
// TypeError, RangeError or stack overflow, never take long, never change its input. Inputs are random
// bytes and stacked mutations of the target's seeds and of inputs it accepted so far (bit flips,
// interesting bytes, insert/delete/duplicate, truncation, splicing, 0x00/0xff runs, hostile CBOR
// heads), plus the target's own format-aware edits if it has any. A target that can re-encode is also held to encode(decode(x)) == x: one encoding per value.
// Randomness comes from a seeded xoshiro128** so that a run is reproducible from its seed.

export interface FuzzTarget {
  name: string;
  seeds: Uint8Array[];
  decode(bytes: Uint8Array): unknown;
  isTypedError(e: unknown): boolean;
  /** When given, every accepted input must re-encode to exactly itself. */
  encode?(value: unknown): Uint8Array;
  /** When given, a format-aware edit of a valid input (null if it can not), used for a third of inputs. */
  mutateStructure?(r: Prng, input: Uint8Array): Uint8Array | null;
}

export interface FuzzOptions {
  /** Inputs per target. */
  iterations: number;
  seed: number;
  /** Longest generated input (mutated seeds may reach the longest seed plus 64). */
  maxLen: number;
  /** A decode slower than this (confirmed on re-runs, to skip GC pauses) is a finding; default 200. */
  slowMs?: number;
  /** Findings kept in the report (all are counted); default 20. */
  maxFindings?: number;
}

export type FindingKind = 'crash' | 'slow' | 'roundtrip' | 'mutated-input';
export interface FuzzFinding {
  target: string;
  kind: FindingKind;
  input: Uint8Array;
  error: string;
}
export interface FuzzTargetStats {
  name: string;
  runs: number;
  accepted: number;
  /** Rejections by error code (or error name when there is no code). */
  rejected: Record<string, number>;
  slowestMs: number;
  slowestInput: Uint8Array;
}
export interface FuzzReport {
  seed: number;
  inputs: number;
  elapsedMs: number;
  findingCount: number;
  findings: FuzzFinding[];
  targets: FuzzTargetStats[];
}

/** xoshiro128** (Blackman and Vigna), seeded through splitmix32. */
export class Prng {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  u32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }
  /** Uniform in [0, n) for n up to 2^32 (the tiny modulo bias does not matter here). */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)];
  }
}
function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x7f, 0x80, 0x9f, 0xbf, 0xc0, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfb, 0xff];
// Heads that claim huge or odd sizes: 8-byte lengths, 4-byte counts, indefinite items, tags, floats.
const HOSTILE_HEADS = [
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x7b, 0, 0, 0, 1, 0, 0, 0, 0], [0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
  [0x9a, 0xff, 0xff, 0xff, 0xff], [0xba, 0x7f, 0xff, 0xff, 0xff], [0x5a, 0, 1, 0, 0], [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x3b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x1b, 0, 0x20, 0, 0, 0, 0, 0, 0], [0x9f], [0xbf], [0x5f], [0x7f], [0xff],
  [0xd9, 0xdf, 0xff], [0xd8, 0x1c], [0xd8, 0x1d, 0x00], [0xd8, 0x1b], [0xc2, 0x41, 0x01], [0xf9, 0x7e, 0x00], [0xfb, 0, 0, 0, 0, 0, 0, 0, 0],
  [0xf8, 0x20], [0xf7], [0x18, 0x00], [0x19, 0x00, 0x01], [0x61, 0xff], [0x62, 0xed, 0xa0], [0x63, 0xed, 0xa0, 0x80], [0xa1, 0x80, 0x00],
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function insertAt(b: Uint8Array, at: number, piece: Uint8Array | number[]): Uint8Array {
  const out = new Uint8Array(b.length + piece.length);
  out.set(b.subarray(0, at), 0);
  out.set(piece, at);
  out.set(b.subarray(at), at + piece.length);
  return out;
}

/** One random edit of `b`; `other` is a second corpus entry for splicing. */
export function mutate(r: Prng, b: Uint8Array, other: Uint8Array): Uint8Array {
  const at = r.below(b.length + 1);
  switch (r.below(11)) {
    case 0: { // flip a few bits
      if (b.length === 0) return r.bytes(1);
      const out = b.slice();
      for (let n = 1 + r.below(3); n > 0; n--) out[r.below(out.length)] ^= 1 << r.below(8);
      return out;
    }
    case 1: { // an interesting byte
      if (b.length === 0) return Uint8Array.of(r.pick(INTERESTING));
      const out = b.slice();
      out[r.below(out.length)] = r.pick(INTERESTING);
      return out;
    }
    case 2: // random bytes inserted
      return insertAt(b, at, r.bytes(1 + r.below(8)));
    case 3: { // a range deleted
      const n = 1 + r.below(Math.max(1, b.length - at));
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
    }
    case 4: { // a range duplicated
      const from = r.below(b.length + 1);
      return insertAt(b, at, b.slice(from, from + 1 + r.below(16)));
    }
    case 5: // truncated
      return b.slice(0, r.below(b.length + 1));
    case 6: { // spliced: a prefix of one, a suffix of the other
      const cut = r.below(other.length + 1);
      return concat(b.subarray(0, at), other.subarray(cut));
    }
    case 7: // a run of 0x00 or 0xff
      return insertAt(b, at, new Uint8Array(1 + r.below(64)).fill(r.below(2) ? 0xff : 0x00));
    case 8: // a hostile head inserted
      return insertAt(b, at, r.pick(HOSTILE_HEADS));
    case 9: { // a hostile head written over
      const head = r.pick(HOSTILE_HEADS), out = b.slice();
      for (let i = 0; i < head.length && at + i < out.length; i++) out[at + i] = head[i];
      return out;
    }
    default: // nesting: a run of one-item arrays or maps
      return insertAt(b, at, new Uint8Array(1 + r.below(40)).fill(r.below(2) ? 0x81 : 0xa1));
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 300);
  return `thrown ${typeof e}: ${String(e)}`.slice(0, 300);
}
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const CORPUS_MAX = 256; // seeds plus accepted inputs kept for mutation

export function runFuzz(targets: readonly FuzzTarget[], opts: FuzzOptions): FuzzReport {
  const slowMs = opts.slowMs ?? 200, maxFindings = opts.maxFindings ?? 20;
  const started = performance.now();
  const findings: FuzzFinding[] = [];
  let findingCount = 0, inputs = 0;
  const stats: FuzzTargetStats[] = [];
  const record = (f: FuzzFinding) => {
    findingCount++;
    if (findings.length < maxFindings) findings.push(f);
  };

  targets.forEach((target, ti) => {
    const r = new Prng((opts.seed ^ Math.imul(ti + 1, 0x9e3779b1)) >>> 0);
    const corpus = target.seeds.length > 0 ? target.seeds.slice() : [new Uint8Array(0)];
    const corpusMax = Math.max(CORPUS_MAX, corpus.length + 64);
    const lenCap = Math.max(opts.maxLen, ...corpus.map((s) => s.length + 64));
    const st: FuzzTargetStats = { name: target.name, runs: 0, accepted: 0, rejected: {}, slowestMs: 0, slowestInput: new Uint8Array(0) };
    const timed = (input: Uint8Array): { ok: boolean; value?: unknown; error?: unknown; ms: number } => {
      const t0 = performance.now();
      try {
        const value = target.decode(input);
        return { ok: true, value, ms: performance.now() - t0 };
      } catch (error) {
        return { ok: false, error, ms: performance.now() - t0 };
      }
    };

    for (let i = 0; i < opts.iterations; i++) {
      let input: Uint8Array;
      if (i < target.seeds.length) input = target.seeds[i];
      else if (r.below(8) === 0) input = r.bytes(r.below(Math.min(opts.maxLen, 64) + 1) + (r.below(16) === 0 ? r.below(opts.maxLen) : 0));
      else {
        input = r.pick(corpus);
        const structured = target.mutateStructure !== undefined && r.below(3) === 0 ? target.mutateStructure(r, input) : null;
        if (structured !== null) input = structured;
        if (structured === null || r.below(4) === 0) {
          for (let n = 1 + r.below(4); n > 0; n--) input = mutate(r, input, r.pick(corpus));
        }
      }
      if (input.length > lenCap) input = input.slice(0, lenCap);

      const before = input.slice();
      const res = timed(input);
      st.runs++;
      inputs++;
      if (res.ms > st.slowestMs) {
        st.slowestMs = res.ms;
        st.slowestInput = before;
      }
      if (res.ms > slowMs) {
        const again = Math.min(timed(before.slice()).ms, timed(before.slice()).ms);
        if (again > slowMs) record({ target: target.name, kind: 'slow', input: before, error: `${again.toFixed(1)} ms` });
      }
      if (!sameBytes(input, before)) record({ target: target.name, kind: 'mutated-input', input: before, error: 'decode changed its input' });

      if (!res.ok) {
        if (!target.isTypedError(res.error)) {
          record({ target: target.name, kind: 'crash', input: before, error: describeError(res.error) });
          continue;
        }
        const e = res.error as { code?: unknown; name?: unknown };
        const code = typeof e.code === 'string' ? e.code : String(e.name);
        st.rejected[code] = (st.rejected[code] ?? 0) + 1;
        continue;
      }
      st.accepted++;
      if (target.encode !== undefined) {
        try {
          const again = target.encode(res.value);
          if (!sameBytes(again, before)) record({ target: target.name, kind: 'roundtrip', input: before, error: 're-encoding differs' });
        } catch (e) {
          record({ target: target.name, kind: 'roundtrip', input: before, error: `re-encoding threw ${describeError(e)}` });
        }
      }
      // accepted inputs are valid messages: good material for further mutation
      if (corpus.length < corpusMax) corpus.push(before);
      else corpus[target.seeds.length + r.below(corpusMax - target.seeds.length)] = before;
    }
    stats.push(st);
  });
  return { seed: opts.seed, inputs, elapsedMs: performance.now() - started, findingCount, findings, targets: stats };
}
