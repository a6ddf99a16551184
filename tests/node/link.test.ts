// Links over real loopback sockets: the Noise XK handshake with identity binding, messages both
// ways, and a peer that lies about its identity, stalls, or sends junk is refused with the reason.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { waitFor } from './proc-helpers.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { linkKeyFromIdentity } from '../../crypto/link-key.ts';
import { defaultLinkPolicy, Link, type LinkEvents } from '../../node/link.ts';
import { handshakeAsDialer, handshakeAsListener } from '../../node/link-handshake.ts';
import type { LinkError } from '../../node/link-errors.ts';

function identity() {
  const seed = new Uint8Array(randomBytes(32));
  return { identityKey: nodeBackend.ed25519.publicKey(seed), linkKey: linkKeyFromIdentity(seed) };
}

async function pair(): Promise<{ a: net.Socket; b: net.Socket; server: net.Server }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect(port, '127.0.0.1');
  await new Promise((r) => a.once('connect', r));
  return { a, b: await accepted, server };
}

function collector() {
  const got: Uint8Array[] = [];
  const closed: LinkError[] = [];
  const events: LinkEvents = { onMessage: (_l, m) => got.push(m), onCell: () => {}, onClose: (_l, r) => closed.push(r) };
  return { got, closed, events };
}


/** Two identities, a handshake over a loopback socket pair, and a Link on each end with these events. */
async function linked(ea: LinkEvents, eb: LinkEvents) {
  const A = identity(), B = identity();
  const { a, b, server } = await pair();
  const [ra, rb] = await Promise.all([
    handshakeAsDialer(a, { ...A, peerIdentity: B.identityKey, timeoutMs: 3000 }),
    handshakeAsListener(b, { ...B, timeoutMs: 3000 }),
  ]);
  const la = new Link(a, ra.transport, ra.reader, B.identityKey, new Uint8Array(32), true, ea);
  ra.pending.forEach((f) => la.injectFrame(f));
  const lb = new Link(b, rb.transport, rb.reader, A.identityKey, new Uint8Array(32), false, eb);
  rb.pending.forEach((f) => lb.injectFrame(f));
  return { A, B, la, lb, listenerSaw: rb.peerIdentity, server, sockets: { a, b } };
}

t.test('handshake proves both identities; messages flow both ways', async (t) => {
  const ca = collector(), cb = collector();
  const { A, la, lb, listenerSaw, server } = await linked(ca.events, cb.events);
  t.same(listenerSaw, A.identityKey, 'listener learned the dialer identity');
  const big = new Uint8Array(randomBytes(60_000));
  la.sendMessage(new Uint8Array([1, 2, 3]));
  la.sendMessage(big);
  lb.sendMessage(new Uint8Array([9]));
  t.ok(await waitFor(() => cb.got.length === 2 && ca.got.length === 1));
  t.same(cb.got[0], new Uint8Array([1, 2, 3]));
  t.same(cb.got[1], big);
  t.same(ca.got[0], new Uint8Array([9]));
  la.close();
  t.ok(await waitFor(() => cb.closed.length === 1), 'peer sees the close');
  server.close();
});

t.test('what a link hands up belongs to the receiver: cells and messages stay whole after later frames', async (t) => {
  const cells: { command: number; body: Uint8Array }[] = [];
  const cb = collector();
  cb.events.onCell = (_l, c) => cells.push({ command: c.command, body: c.body });
  const { la, server } = await linked(collector().events, cb.events);
  const bodies = [0x11, 0x22, 0x33].map((v) => new Uint8Array(509).fill(v));
  const messages = [new Uint8Array(40_000).fill(0x44), new Uint8Array([5, 6, 7]), new Uint8Array(3_000).fill(0x66)];
  for (let i = 0; i < 3; i++) {
    la.sendCells([{ circId: 7 + i, command: 3, body: bodies[i] }]); // RELAY cells, each flushed in its own frame
    la.sendMessage(messages[i]);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(await waitFor(() => cells.length === 3 && cb.got.length === 3));
  t.same(cells.map((c) => c.body), bodies, 'every cell body as sent, after all frames arrived');
  t.same(cb.got, messages, 'every message as sent');
  la.close();
  server.close();
});

t.test('a dialer that expects another identity fails the handshake', async (t) => {
  const A = identity(), B = identity(), C = identity();
  const { a, b, server } = await pair();
  const results = await Promise.allSettled([
    handshakeAsDialer(a, { ...A, peerIdentity: C.identityKey, timeoutMs: 1000 }),
    handshakeAsListener(b, { ...B, timeoutMs: 1000 }),
  ]);
  t.equal(results[0].status, 'rejected');
  t.match((results[0] as PromiseRejectedResult).reason, { name: 'LinkError' });
  t.equal(results[1].status, 'rejected', 'listener refuses too');
  a.destroy(); b.destroy(); server.close();
});

t.test('a stalled handshake times out; junk fails it', async (t) => {
  const B = identity();
  let { a, b, server } = await pair();
  await t.rejects(handshakeAsListener(b, { ...B, timeoutMs: 200 }), { code: 'HANDSHAKE_TIMEOUT' });
  a.destroy(); b.destroy(); server.close();
  ({ a, b, server } = await pair());
  const p = handshakeAsListener(b, { ...B, timeoutMs: 2000 });
  a.write(new Uint8Array([0, 60, ...randomBytes(60)]));
  await t.rejects(p, { name: 'LinkError', code: 'HANDSHAKE_FAILED' });
  a.destroy(); b.destroy(); server.close();
});

t.test('junk after the handshake closes the link with BAD_FRAME', async (t) => {
  const A = identity(), B = identity();
  const { a, b, server } = await pair();
  const [, rb] = await Promise.all([
    handshakeAsDialer(a, { ...A, peerIdentity: B.identityKey, timeoutMs: 3000 }),
    handshakeAsListener(b, { ...B, timeoutMs: 3000 }),
  ]);
  const cb = collector();
  new Link(b, rb.transport, rb.reader, A.identityKey, new Uint8Array(32), false, cb.events);
  a.write(new Uint8Array([0, 100, ...randomBytes(100)]));
  t.ok(await waitFor(() => cb.closed.length === 1));
  t.equal(cb.closed[0]?.code, 'BAD_FRAME');
  a.destroy(); server.close();
});

t.test('a peer over its cell allowance is dropped with RATE_LIMITED', async (t) => {
  const A = identity(), B = identity();
  const { a, b, server } = await pair();
  const [ra, rb] = await Promise.all([
    handshakeAsDialer(a, { ...A, peerIdentity: B.identityKey, timeoutMs: 3000 }),
    handshakeAsListener(b, { ...B, timeoutMs: 3000 }),
  ]);
  const ca = collector(), cb = collector();
  const la = new Link(a, ra.transport, ra.reader, B.identityKey, new Uint8Array(32), true, ca.events);
  const strict = { ...defaultLinkPolicy(), cellRate: 100, cellBurst: 200 };
  new Link(b, rb.transport, rb.reader, A.identityKey, new Uint8Array(32), false, cb.events, strict);
  for (let i = 0; i < 10; i++) la.sendMessage(new Uint8Array(randomBytes(30_000))); // ~600 cells at once
  t.ok(await waitFor(() => cb.closed.length === 1));
  t.equal(cb.closed[0]?.code, 'RATE_LIMITED');
  t.ok(cb.got.length < 10, 'the flood was not all delivered');
  server.close();
});

t.test('an idle link sends PADDING cells at random 60–80 ms gaps; a busy one does not pad', async (t) => {
  const A = identity(), B = identity();
  const { a, b, server } = await pair();
  const [ra, rb] = await Promise.all([
    handshakeAsDialer(a, { ...A, peerIdentity: B.identityKey, timeoutMs: 3000 }),
    handshakeAsListener(b, { ...B, timeoutMs: 3000 }),
  ]);
  const policy = { ...defaultLinkPolicy(), paddingMinMs: 60, paddingMaxMs: 80 };
  const ca = collector(), cb = collector();
  const la = new Link(a, ra.transport, ra.reader, B.identityKey, new Uint8Array(32), true, ca.events, policy);
  ra.pending.forEach((f) => la.injectFrame(f));
  const lb = new Link(b, rb.transport, rb.reader, A.identityKey, new Uint8Array(32), false, cb.events, { ...policy, paddingMinMs: 60_000, paddingMaxMs: 60_000 });
  rb.pending.forEach((f) => lb.injectFrame(f));
  // Busy: a one-cell message every 5 ms for 150 ms; every cell that arrives is a message.
  for (let i = 0; i < 30; i++) {
    la.sendMessage(new Uint8Array([i]));
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(await waitFor(() => cb.got.length === 30));
  t.equal(lb.stats.cellsIn, 30, 'no padding while traffic flows');
  // Idle: padding only, a cell per 60–80 ms.
  const before = lb.stats.cellsIn;
  await new Promise((r) => setTimeout(r, 500));
  const pads = lb.stats.cellsIn - before;
  t.ok(pads >= 3 && pads <= 9, `${pads} padding cells in 500 ms idle`);
  t.equal(cb.got.length, 30, 'padding is never delivered as a message');
  la.close();
  lb.close();
  server.close();
});

t.test('a link reuses its flush buffer only once the socket let go of it: every message arrives intact', async (t) => {
  const cb = collector();
  const { la, server, sockets } = await linked(collector().events, cb.events);
  const sent: Uint8Array[] = [];
  // Flush after flush (one per tick) while the reader pauses now and then: some writes go through
  // at once (the buffer is reused), others wait in the socket (it must not be).
  for (let i = 0; i < 600; i++) {
    if (i % 200 === 0) sockets.b.pause(); // ~8 MB unread: the kernel's buffers fill, writes wait
    if (i % 200 === 150) sockets.b.resume();
    const m = new Uint8Array(30_000 + (i % 7) * 5_000).fill(i & 0xff);
    m[0] = i >> 8;
    if (la.sendMessage(m)) sent.push(m);
    await new Promise((r) => setImmediate(r));
  }
  sockets.b.resume();
  t.ok(sent.length > 100, `${sent.length} of 600 accepted`);
  t.ok(await waitFor(() => cb.got.length === sent.length, 10_000), 'all accepted messages arrive');
  t.equal(cb.got.findIndex((m, i) => Buffer.compare(m, sent[i]) !== 0), -1, 'byte for byte, in order');
  la.close();
  server.close();
});
