// routing/fetch-window.ts: at most `size` requests in flight, FIFO order, synchronous completion.
import t from 'tap';
import { FetchWindow } from '../../routing/fetch-window.ts';

t.test('starts at most `size` at once, the next one as each finishes, in order', async (t) => {
  const started: number[] = [];
  const w = new FetchWindow<number>(3, (x) => started.push(x));
  w.add(1, 2, 3, 4, 5);
  t.same(started, [1, 2, 3]);
  t.equal(w.inflight, 3);
  t.equal(w.queued, 2);
  w.done();
  t.same(started, [1, 2, 3, 4]);
  w.done();
  w.done();
  w.done();
  w.done();
  t.equal(w.inflight, 0);
  t.equal(w.queued, 0);
  t.throws(() => w.done(), RangeError);
  t.throws(() => new FetchWindow(0, () => {}), RangeError);
});

t.test('a request that finishes at once (a local hit) lets the next start without recursion trouble', async (t) => {
  let n = 0;
  const w: FetchWindow<number> = new FetchWindow<number>(2, () => {
    n++;
    w.done();
  });
  w.add(...Array.from({ length: 5000 }, (_, i) => i));
  t.equal(n, 5000);
  t.equal(w.inflight, 0);
});
