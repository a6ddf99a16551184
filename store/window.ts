// A bounded window of concurrent block operations (putBlock/getBlock calls in flight), abortable.
// acquire() resolves when a slot is free (or rejects with StoreError ABORTED when the signal fires);
// release() hands the slot to the next waiter. Pure promise bookkeeping: no timers.
import { checkAborted, StoreError } from './errors.ts';
import { MAX_WINDOW } from './constants.ts';

export class Window {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void }> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly size: number, private readonly signal?: AbortSignal) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_WINDOW) throw new RangeError(`window must be 1..${MAX_WINDOW}`);
  }

  acquire(): Promise<void> {
    checkAborted(this.signal);
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new StoreError('ABORTED', 'operation aborted'));
      };
      const w = {
        grant: () => {
          this.signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiters.push(w);
      this.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) return next.grant(); // the slot passes on; active stays
    this.active--;
    if (this.active === 0) for (const f of this.idleWaiters.splice(0)) f();
  }

  /** Runs `task` in a slot. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Resolves when no operation is in flight. */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }
}
