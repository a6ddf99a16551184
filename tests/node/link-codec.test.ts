// The link's pure codecs: frames over a byte stream split at every possible point, cells, message
// fragmentation and reassembly with its bounds, the token bucket and the backoff.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { CELL_BODY_LEN, CELL_LEN, CellCommand, MAX_LINK_MESSAGE } from '../../node/constants.ts';
import { encodeFrame, FrameReader } from '../../node/frame-reader.ts';
import {
  checkCells,
  circIdAt,
  decodeCells,
  encodeCells,
  FRAGMENT_DATA_LEN,
  MessageAssembler,
  messageCellCount,
  messageToCells,
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

t.test('cells round-trip and junk is rejected', async (t) => {
  const cells = [
    { circId: 0, command: CellCommand.PADDING, body: new Uint8Array(CELL_BODY_LEN) },
    { circId: 0xfffffffe, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) },
  ];
  t.same(decodeCells(encodeCells(cells)), cells);
  t.throws(() => decodeCells(rnd(CELL_LEN + 1)), { code: 'BAD_FRAME' });
  t.throws(() => decodeCells(new Uint8Array(0)), { code: 'BAD_FRAME' });
  const bad = encodeCells(cells);
  bad[4] = 200;
  t.throws(() => decodeCells(bad), { code: 'BAD_CELL' });
});

t.test('messages fragment into cells and reassemble, of every size class', async (t) => {
  const a = new MessageAssembler();
  for (const n of [1, FRAGMENT_DATA_LEN - 1, FRAGMENT_DATA_LEN, FRAGMENT_DATA_LEN + 1, 5000, MAX_LINK_MESSAGE]) {
    const m = rnd(n);
    const cells = decodeCells(encodeCells(messageToCells(m)));
    t.equal(cells.length, Math.ceil(n / FRAGMENT_DATA_LEN));
    const outs = cells.map((c) => a.push(c));
    t.same(outs.at(-1), m, `${n} bytes`);
    t.ok(outs.slice(0, -1).every((o) => o === undefined));
  }
});

t.test('hostile fragments are rejected, and a message cannot grow without bound', async (t) => {
  const frag = (flags: number, len: number, fill = 1) => {
    const body = new Uint8Array(CELL_BODY_LEN);
    body[0] = flags;
    body[1] = len >> 8;
    body[2] = len & 0xff;
    body.fill(fill, 3, 3 + Math.min(len, FRAGMENT_DATA_LEN));
    return { circId: 0, command: CellCommand.MESSAGE, body };
  };
  t.throws(() => new MessageAssembler().push(frag(0, 0)), { code: 'BAD_CELL' });
  t.throws(() => new MessageAssembler().push(frag(2, 5)), { code: 'BAD_CELL' });
  t.throws(() => new MessageAssembler().push(frag(0, FRAGMENT_DATA_LEN + 1)), { code: 'BAD_CELL' });
  t.throws(() => new MessageAssembler().push(frag(1, 10)), { code: 'BAD_CELL' }, 'short middle fragment');
  const padded = frag(0, 10);
  padded.body[400] = 9;
  t.throws(() => new MessageAssembler().push(padded), { code: 'BAD_CELL' }, 'junk in padding');
  const a = new MessageAssembler();
  t.throws(() => {
    for (let i = 0; i < 1000; i++) a.push(frag(1, FRAGMENT_DATA_LEN));
  }, { code: 'TOO_LARGE' });
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

t.test('cells written in place are byte for byte the cells messageToCells/encodeCells make', async (t) => {
  for (const n of [1, FRAGMENT_DATA_LEN, FRAGMENT_DATA_LEN + 1, 33_000, MAX_LINK_MESSAGE]) {
    const m = rnd(n);
    const want = encodeCells(messageToCells(m));
    t.equal(messageCellCount(m), want.length / CELL_LEN);
    // In slices of 7 cells into a dirty buffer, as a link fills frames.
    const out = new Uint8Array(want.length).fill(0xee);
    let from = 0;
    for (let at = 0; from < n; at += 7 * CELL_LEN) from = writeMessageCells(m, from, out, at, 7);
    t.equal(from, n);
    t.same(out, want, `${n} bytes`);
    const a = new MessageAssembler();
    let got: Uint8Array | undefined;
    const count = checkCells(out);
    for (let i = 0; i < count; i++) {
      t.equal(got, undefined);
      got = a.pushFragment(circIdAt(out, i * CELL_LEN), out, i * CELL_LEN + 5);
    }
    t.same(got, m);
  }
  t.throws(() => messageCellCount(new Uint8Array(0)), RangeError);
  t.throws(() => messageCellCount(new Uint8Array(MAX_LINK_MESSAGE + 1)), RangeError);
  const cell = { circId: 0x01020304, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) };
  const buf = new Uint8Array(2 * CELL_LEN);
  writeCell(buf, CELL_LEN, cell);
  t.equal(circIdAt(buf, CELL_LEN), 0x01020304);
  t.same(decodeCells(buf)[1], cell);
  t.throws(() => writeCell(buf, 0, { ...cell, body: new Uint8Array(3) }), RangeError);
});

t.test('checkCells rejects what decodeCells rejects', async (t) => {
  t.throws(() => checkCells(rnd(CELL_LEN + 1)), { code: 'BAD_FRAME' });
  t.throws(() => checkCells(new Uint8Array(0)), { code: 'BAD_FRAME' });
  const bad = new Uint8Array(3 * CELL_LEN);
  bad[2 * CELL_LEN + 4] = 200;
  t.throws(() => checkCells(bad), { code: 'BAD_CELL' });
  bad[2 * CELL_LEN + 4] = CellCommand.PADDING;
  t.equal(checkCells(bad), 3);
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

t.test('feed takes a run of MESSAGE cells at once: the same messages and errors as cell by cell', async (t) => {
  // A frame: two messages, a RELAY cell, a third message; feed stops at the RELAY cell.
  const ms = [rnd(1), rnd(33_000), rnd(FRAGMENT_DATA_LEN)];
  const relay = { circId: 9, command: CellCommand.RELAY, body: rnd(CELL_BODY_LEN) };
  const plain = encodeCells([...messageToCells(ms[0]), ...messageToCells(ms[1]), relay, ...messageToCells(ms[2])]);
  const a = new MessageAssembler();
  const got: Uint8Array[] = [];
  const relayAt = (1 + messageCellCount(ms[1])) * CELL_LEN;
  t.equal(a.feed(plain, 0, (m) => (got.push(m), true)), relayAt, 'stops at the first other cell');
  t.equal(a.feed(plain, relayAt + CELL_LEN, (m) => (got.push(m), true)), plain.length, 'runs to the end');
  t.same(got, ms);
  plain.fill(0xaa); // what feed delivered is the receiver's own, not a view into the frame
  t.same(got, ms, 'delivered messages are copies');

  const again = encodeCells([...messageToCells(ms[0]), ...messageToCells(ms[2])]);
  let calls = 0;
  t.equal(new MessageAssembler().feed(again, 0, () => (calls++, false)), CELL_LEN, 'stops after the message when told');
  t.equal(calls, 1);

  // A message split across two frames, as a link's frames may split one.
  const cells = messageToCells(ms[1]);
  const b = new MessageAssembler();
  let whole: Uint8Array | undefined;
  t.equal(b.feed(encodeCells(cells.slice(0, 10)), 0, () => t.fail('not yet')), 10 * CELL_LEN);
  b.feed(encodeCells(cells.slice(10)), 0, (m) => ((whole = m), true));
  t.same(whole, ms[1]);

  // Hostile runs: the same codes as pushFragment.
  const bad = (edit: (p: Uint8Array) => void) => {
    const p = encodeCells(messageToCells(rnd(2000)));
    edit(p);
    return () => new MessageAssembler().feed(p, 0, () => true);
  };
  t.throws(bad((p) => (p[CELL_LEN + 3] = 1)), { code: 'BAD_CELL' }, 'MESSAGE cell on a circuit');
  t.throws(bad((p) => (p[CELL_LEN + 5] = 2)), { code: 'BAD_CELL' }, 'bad flags');
  t.throws(bad((p) => ((p[CELL_LEN + 6] = 0), (p[CELL_LEN + 7] = 10))), { code: 'BAD_CELL' }, 'short middle fragment');
  t.throws(bad((p) => (p[p.length - 1] = 7)), { code: 'BAD_CELL' }, 'junk in the padding');
  t.throws(bad((p) => ((p[5] = 0), (p[6] = 0), (p[7] = 0))), { code: 'BAD_CELL' }, 'empty fragment');
  const big = new Uint8Array(130 * CELL_LEN);
  for (let i = 0; i < 130; i++) writeMessageCells(rnd(FRAGMENT_DATA_LEN + 1), 0, big, i * CELL_LEN, 1); // all "more"
  t.throws(() => new MessageAssembler().feed(big, 0, () => true), { code: 'TOO_LARGE' });
});
