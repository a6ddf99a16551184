// A bounded window of block requests for an originator (issue 4: "many blocks are fetched in
// parallel with a bounded window"): items wait in a FIFO queue and at most `size` are in flight;
// each finished one lets the next start. Sans-IO and role-agnostic: `start` is whatever begins a
// request (NodeCore.fetchBlock for the user's own node today, a circuit exit's request later) and
// the driver calls done() when the request's result arrives. Keeps no clock and no results.

export class FetchWindow<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private active = 0;
  private pumping = false; // done() called from inside start(): the running loop picks up the slack

  constructor(
    readonly size: number,
    private readonly start: (item: T) => void,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('FetchWindow: size must be a positive integer');
  }

  get inflight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Queues items and starts as many as the window allows. */
  add(...items: T[]): void {
    for (const x of items) this.queue.push(x);
    this.pump();
  }

  /** One request in flight has finished (either way): start the next queued one. */
  done(): void {
    if (this.active <= 0) throw new RangeError('FetchWindow: done() without a request in flight');
    this.active--;
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.fill();
    } finally {
      this.pumping = false;
    }
  }

  private fill(): void {
    while (this.active < this.size && this.head < this.queue.length) {
      const x = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head); // keep the array from growing without bound
        this.head = 0;
      }
      this.active++;
      this.start(x); // may call done() synchronously (an answer from our own store)
    }
  }
}
