// The Runtime a routing driver is given (DESIGN.md "Wire and code rules": time and randomness are
// injected; STYLE.md habit 8), and a deterministic seeded PRNG that the simulator uses as its
// randomBytes, so a whole run follows from its seed. The sans-IO cores never read the clock or a
// random source themselves: their callers pass `now` and a `random(n)` function.
//
// The PRNG is xoshiro128** 1.1 (Blackman and Vigna, 2018; public domain reference at
// prng.di.unimi.it), seeded through SplitMix32 so any integer seed gives a well-mixed state.
// It is NOT a cryptographic generator: use it for simulations and tests only.

export interface Runtime {
  /** Milliseconds on a monotonic clock (virtual in the simulator). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** `n` random bytes (a CSPRNG in a real node, the seeded PRNG in the simulator). */
  randomBytes(n: number): Uint8Array;
}

/** A random-bytes source as the cores take it. */
export type RandomSource = (n: number) => Uint8Array;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe integer (or a string, hashed to one); the same seed, the same stream. */
  constructor(seed: number | string) {
    const sm = { s: 0 };
    if (typeof seed === 'string') {
      let h = 0x811c9dc5; // FNV-1a over the UTF-16 code units
      for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
      sm.s = h | 0;
    } else {
      if (!Number.isSafeInteger(seed)) throw new RangeError('SeededRandom: seed must be a safe integer');
      sm.s = (seed | 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2d);
    }
    this.a = splitmix32(sm);
    this.b = splitmix32(sm);
    this.c = splitmix32(sm);
    this.d = splitmix32(sm);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** A generator with this exact xoshiro128** state (for known-answer tests). */
  static fromState(a: number, b: number, c: number, d: number): SeededRandom {
    const r = new SeededRandom(0);
    r.a = a | 0;
    r.b = b | 0;
    r.c = c | 0;
    r.d = d | 0;
    return r;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** An integer in [0, n), n ≤ 2^32, without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError('SeededRandom.int: bad bound');
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  fill(out: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const x = this.nextU32();
      out[i] = x & 0xff;
      out[i + 1] = (x >>> 8) & 0xff;
      out[i + 2] = (x >>> 16) & 0xff;
      out[i + 3] = x >>> 24;
    }
    if (i < out.length) {
      let x = this.nextU32();
      for (; i < out.length; i++, x >>>= 8) out[i] = x & 0xff;
    }
    return out;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** This generator as a RandomSource. */
  source(): RandomSource {
    return (n) => this.bytes(n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
