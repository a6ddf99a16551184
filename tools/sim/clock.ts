// The simulator's virtual clock and event loop: time only moves when the next event runs, so a
// 10,000-node run over an hour of virtual time takes as long as its events take to compute. It is
// also the Runtime (routing/runtime.ts) of every simulated node: now() is the virtual time,
// sleep() resolves when the clock reaches it, randomBytes() comes from the seeded PRNG.

import type { Runtime } from '../../routing/runtime.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { EventHeap } from './heap.ts';

export class VirtualClock implements Runtime {
  private t: number;
  private seq = 0;
  private readonly heap = new EventHeap();
  readonly rng: SeededRandom;
  /** Events run so far. */
  steps = 0;

  constructor(seed: number | string, start = 0) {
    this.t = start;
    this.rng = new SeededRandom(seed);
  }

  now(): number {
    return this.t;
  }

  randomBytes(n: number): Uint8Array {
    return this.rng.bytes(n);
  }

  /** Runs `run` at virtual time `at` (not before now). */
  at(at: number, run: () => void): void {
    this.heap.push({ at: Math.max(at, this.t), seq: this.seq++, run });
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let done = false;
      const onAbort = () => {
        if (done) return;
        done = true;
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.at(this.t + ms, () => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  get pending(): number {
    return this.heap.size;
  }

  /** Runs events due up to and including `until`, then sets the clock to `until`. */
  runUntil(until: number): void {
    for (;;) {
      const e = this.heap.peek();
      if (e === undefined || e.at > until) break;
      this.heap.pop();
      this.t = e.at;
      this.steps++;
      e.run();
    }
    if (until > this.t) this.t = until;
  }

  /** Runs events while `cond()` holds and events are left up to `limit`. */
  runWhile(cond: () => boolean, limit: number): void {
    while (cond()) {
      const e = this.heap.peek();
      if (e === undefined || e.at > limit) break;
      this.heap.pop();
      this.t = e.at;
      this.steps++;
      e.run();
    }
  }
}
