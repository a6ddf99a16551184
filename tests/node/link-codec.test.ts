// The link's pure codecs: frames over a byte stream split at every possible point, cells, message
// runs (written in slices as a link fills frames, read back frame by frame) with their bounds and
// hostile forms, the token bucket and the backoff.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { CELL_BODY_LEN, CELL_LEN, CellCommand, MAX_LINK_MESSAGE } from '../../node/constants.ts';
import { encodeFrame, FrameReader } from '../../node/frame-reader.ts';
import {
  type Cell,
  CellReader,
  encodeCells,
  MESSAGE_HEAD_DATA,
  messageCellCount,
  messageSlotsBetween,
  writeCell,
  writeMessageCells,
} from '../../node/link-cells.ts';
import { backoffDelay, TokenBucket } from '../../node/token-bucket.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));

t.test('frames survive any chunking of the stream', async (t) => {
  const payloads = [rnd(1), rnd(300), rnd(65535), rnd(2)];
  const stream = Buffer.concat(payloads.map(encodeFrame));
  for (const step of [1, 2, 3, 7, 1000, stream.length]) {
    const r = new FrameReader();
    const got: Uint8Array[] = [];
    for (let o = 0; o < stream.length; o += step) got.push(...r.push(stream.subarray(o, o + step)));
    t.same(got, payloads, `chunks of ${step}`);
    t.equal(r.buffered, 0);
  }
});

t.test('frames are copies, not views into the socket buffer', async (t) => {
  const chunk = Buffer.from(encodeFrame(new Uint8Array([1, 2, 3])));
  const [frame] = new FrameReader().push(chunk);
  chunk.fill(9);
  t.same(frame, new Uint8Array([1, 2, 3]));
  t.notOk(Buffer.isBuffer(frame));
});

t.test('a zero or oversize frame length is a typed error', async (t) => {
  t.throws(() => new FrameReader().push(new Uint8Array([0, 0])), { name: 'LinkError', code: 'BAD_FRAME' });
  t.throws(() => new FrameReader(1000).push(new Uint8Array([0x10, 0])), { name: 'LinkError', code: 'BAD_FRAME' });
  t.throws(() => encodeFrame(new Uint8Array(65536)), RangeError);
});

t.test('each hands frames over in place, in order, and stops when told', async (t) => {
  const payloads = [rnd(5), rnd(65535), rnd(1)];
  const stream = Buffer.concat(payloads.map(encodeFrame));
  for (const step of [1, 3, 4096, stream.length]) {
    const r = new FrameReader();
    const got: Uint8Array[] = [];
    for (let o = 0; o < stream.length; o += step) r.each(stream.subarray(o, o + step), (f) => (got.push(Uint8Array.from(f)), true));
    t.same(got, payloads, `chunks of ${step}`);
  }
  const r = new FrameReader();
  let calls = 0;
  r.each(stream, () => (calls++, false));
  t.equal(calls, 1, 'no frame after onFrame returned false');
});

/** Reads frames through one CellReader; returns what came out, in order (cells with their bodies copied). */
function readAll(frames: Uint8Array[], reader = new CellReader()): Array<Cell | Uint8Array> {
  const out: Array<Cell | Uint8Array> = [];
  for (const f of frames) {
    reader.read(
      f,
      (m) => (out.push(m), true),
      (circId, command, plain, at) => (out.push({ circId, command, body: plain.slice(at + 5, at + CELL_LEN) }), true),
    );
  }
  return out;
}

t.test('cells round-trip and junk is rejected', async (t) => {
  const cells = [
    { circId: 0, command: CellCommand.PADDING, body: new Uint8Array(CELL_BODY_LEN) },
    { circId: 0xfffffffe, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) },
  ];
  t.same(readAll([encodeCells(cells)]), cells);
  t.throws(() => readAll([rnd(CELL_LEN + 1)]), { code: 'BAD_FRAME' });
  t.throws(() => readAll([new Uint8Array(0)]), { code: 'BAD_FRAME' });
  const bad = encodeCells(cells);
  bad[CELL_LEN + 4] = 200;
  t.throws(() => readAll([bad]), { code: 'BAD_CELL' }, 'an unknown command');
  const cell = { circId: 0x01020304, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) };
  const buf = new Uint8Array(2 * CELL_LEN);
  writeCell(buf, CELL_LEN, cell);
  t.same(readAll([buf])[1], cell);
  t.throws(() => writeCell(buf, 0, { ...cell, body: new Uint8Array(3) }), RangeError);
});

const SIZES = [1, MESSAGE_HEAD_DATA - 1, MESSAGE_HEAD_DATA, MESSAGE_HEAD_DATA + 1, MESSAGE_HEAD_DATA + CELL_LEN, MESSAGE_HEAD_DATA + CELL_LEN + 1, 5000, 33_000, MAX_LINK_MESSAGE];

t.test('messages of every size class: one head slot, then their bytes back to back', async (t) => {
  for (const n of SIZES) {
    const m = rnd(n);
    const plain = encodeCells([m]);
    t.equal(plain.length, messageCellCount(m) * CELL_LEN);
    t.equal(messageCellCount(m), n <= MESSAGE_HEAD_DATA ? 1 : 1 + Math.ceil((n - MESSAGE_HEAD_DATA) / CELL_LEN), `${n} bytes: its slot count`);
    t.equal(plain[4], CellCommand.MESSAGE);
    t.equal(new DataView(plain.buffer).getUint32(5), n, 'the head says the length');
    const got = readAll([plain]);
    t.same(got, [m], `${n} bytes`);
    plain.fill(0xaa);
    t.same(got, [m], 'what the reader delivered is its own, not a view into the frame');
  }
  t.throws(() => messageCellCount(new Uint8Array(0)), RangeError);
  t.throws(() => messageCellCount(new Uint8Array(MAX_LINK_MESSAGE + 1)), RangeError);
});

t.test('runs written in slices into dirty frames, as a link does, read back frame by frame', async (t) => {
  for (const n of SIZES) {
    for (const per of [1, 7, 127]) {
      const m = rnd(n);
      const want = encodeCells([m]);
      const frames: Uint8Array[] = [];
      let from = 0;
      while (from < n) {
        const out = new Uint8Array(per * CELL_LEN).fill(0xee);
        const to = writeMessageCells(m, from, out, 0, per);
        const used = messageSlotsBetween(from, to);
        t.ok(used >= 1 && used <= per);
        frames.push(out.subarray(0, used * CELL_LEN));
        from = to;
      }
      const joined = new Uint8Array(frames.reduce((k, f) => k + f.length, 0));
      frames.reduce((at, f) => (joined.set(f, at), at + f.length), 0);
      if (Buffer.compare(joined, want) !== 0) t.fail(`${n} bytes in frames of ${per}: not the bytes encodeCells writes`);
      const reader = new CellReader();
      const got = readAll(frames.slice(0, -1), reader);
      t.same(got, [], 'nothing before the last frame');
      t.equal(reader.pending, frames.length > 1);
      t.same(readAll(frames.slice(-1), reader), [m], `${n} bytes in frames of ${per} slots`);
      t.notOk(reader.pending);
    }
  }
});

t.test('a random mix of messages and cells, cut into frames anywhere a link may cut them', async (t) => {
  let seed = 12345;
  const next = (k: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed % k);
  for (let round = 0; round < 60; round++) {
    const items: Array<Cell | Uint8Array> = [];
    for (let i = 0, k = 1 + next(8); i < k; i++) {
      items.push(next(3) === 0 ? { circId: 1 + next(1000), command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) } : rnd(1 + next(next(2) ? 600 : 40_000)));
    }
    const per = 1 + next(127);
    // A link's flush: fill frames of up to `per` slots, a message going on in the next frame.
    const frames: Uint8Array[] = [];
    let out = new Uint8Array(per * CELL_LEN), done = 0, i = 0, off = 0;
    while (i < items.length) {
      const x = items[i] as Cell | Uint8Array;
      if (x instanceof Uint8Array) {
        const to = writeMessageCells(x, off, out, done * CELL_LEN, per - done);
        done += messageSlotsBetween(off, to);
        off = to;
        if (off === x.length) (i++, (off = 0));
      } else {
        writeCell(out, done * CELL_LEN, x);
        done++;
        i++;
      }
      if (done === per || i === items.length) {
        frames.push(out.slice(0, done * CELL_LEN));
        out = new Uint8Array(per * CELL_LEN).fill(0x55);
        done = 0;
      }
    }
    if (!t.same(readAll(frames), items, `round ${round}: ${items.length} items in frames of ${per}`)) break;
  }
});

t.test('the reader stops when told', async (t) => {
  const ms = [rnd(10), rnd(3000), rnd(20)];
  let calls = 0;
  new CellReader().read(encodeCells(ms), () => (calls++, false), () => true);
  t.equal(calls, 1, 'no message after onMessage returned false');
  const relay = { circId: 9, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) };
  let messages = 0;
  new CellReader().read(encodeCells([relay, ms[0] as Uint8Array]), () => (messages++, true), () => false);
  t.equal(messages, 0, 'nothing after onCell returned false');
});

t.test('hostile runs are typed errors', async (t) => {
  const bad = (m: Uint8Array, edit: (p: Uint8Array) => void) => {
    const p = encodeCells([m]);
    edit(p);
    return () => readAll([p]);
  };
  t.throws(bad(rnd(2000), (p) => (p[3] = 1)), { code: 'BAD_CELL' }, 'a MESSAGE cell on a circuit');
  t.throws(bad(rnd(10), (p) => p.fill(0, 5, 9)), { code: 'BAD_CELL' }, 'a length of 0');
  t.throws(bad(rnd(10), (p) => new DataView(p.buffer).setUint32(5, MAX_LINK_MESSAGE + 1)), { code: 'TOO_LARGE' }, 'over the bound');
  t.throws(bad(rnd(10), (p) => (p[CELL_LEN - 1] = 7)), { code: 'BAD_CELL' }, 'junk in a head slot\'s padding');
  t.throws(bad(rnd(2000), (p) => (p[p.length - 1] = 7)), { code: 'BAD_CELL' }, 'junk in a last slot\'s padding');
  // A length that claims more than the frame holds leaves the run pending, and the next frame's
  // bytes are taken as its data: a peer cannot make the reader allocate more than one bound's worth.
  const short = encodeCells([rnd(100)]);
  new DataView(short.buffer).setUint32(5, 50_000);
  const reader = new CellReader();
  t.same(readAll([short], reader), []);
  t.ok(reader.pending, 'waits for the rest of the run');
});

t.test('token bucket allows its burst, then its rate', async (t) => {
  const b = new TokenBucket(100, 10, 0);
  let ok = 0;
  for (let i = 0; i < 50; i++) if (b.take(1, 0)) ok++;
  t.equal(ok, 10, 'burst');
  t.notOk(b.take(1, 5), 'half a token after 5 ms');
  t.ok(b.take(1, 10), 'one token after 10 ms');
  t.notOk(b.take(11, 100_000), 'never more than the burst');
});

t.test('backoff grows, is capped, and is jittered', async (t) => {
  t.ok(backoffDelay(0, 100, 10_000, 0) >= 50 && backoffDelay(0, 100, 10_000, 1) <= 100);
  t.equal(backoffDelay(50, 100, 10_000, 1), 10_000);
  t.ok(backoffDelay(3, 100, 10_000, 0.5) > backoffDelay(1, 100, 10_000, 0.5));
});

