// A binary min-heap of timed events for the simulator's virtual clock. Events due at the same
// time run in the order they were scheduled (a sequence number breaks ties), so a run is
// deterministic.

export interface TimedEvent {
  at: number;
  seq: number;
  run: () => void;
}

export class EventHeap {
  private readonly items: TimedEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TimedEvent | undefined {
    return this.items[0];
  }

  push(e: TimedEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = e;
  }

  pop(): TimedEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(a[r], a[l]) ? r : l;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function before(x: TimedEvent, y: TimedEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}
