// node/socket-reads.ts: a dialed socket reads through one shared buffer into whoever listens now;
// reads that come while nobody listens are kept and handed, in order, to the next listener; two
// dialed sockets sharing the buffer never see each other's bytes; an accepted socket reads through
// 'data' events.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { dialSocket, onReads } from '../../node/socket-reads.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function server(): Promise<{ port: number; accepted: Promise<net.Socket>[]; close: () => Promise<void> }> {
  const waiting: Array<(s: net.Socket) => void> = [];
  const accepted = Array.from({ length: 4 }, () => new Promise<net.Socket>((r) => waiting.push(r)));
  const srv = net.createServer((s) => waiting.shift()?.(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    accepted,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

async function until(f: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

t.test('reads reach the listener; reads while nobody listens are kept for the next one, in order', async (t) => {
  const srv = await server();
  const c = dialSocket('127.0.0.1', srv.port);
  const s = await srv.accepted[0];
  const got: Buffer[] = [];
  const stop = onReads(c, (chunk) => got.push(Buffer.from(chunk))); // a copy: the chunk is only lent
  const a = randomBytes(300_000);
  s.write(a);
  t.ok(await until(() => Buffer.concat(got).length === a.length), 'the first reader got everything');
  t.ok(Buffer.concat(got).equals(a));
  stop();
  const b = randomBytes(100_000);
  s.write(b);
  await sleep(100); // read meanwhile, with nobody listening
  const later: Buffer[] = [];
  onReads(c, (chunk) => later.push(Buffer.from(chunk)));
  const d = randomBytes(50_000);
  s.write(d);
  t.ok(await until(() => Buffer.concat(later).length === b.length + d.length), 'the next reader got what came between, then the rest');
  t.ok(Buffer.concat(later).equals(Buffer.concat([b, d])));
  c.destroy();
  s.destroy();
  await srv.close();
});

t.test('two dialed sockets share the buffer but never each other\'s bytes', async (t) => {
  const srv = await server();
  const c1 = dialSocket('127.0.0.1', srv.port);
  const s1 = await srv.accepted[0];
  const c2 = dialSocket('127.0.0.1', srv.port);
  const s2 = await srv.accepted[1];
  const got1: Buffer[] = [], got2: Buffer[] = [];
  onReads(c1, (chunk) => got1.push(Buffer.from(chunk)));
  onReads(c2, (chunk) => got2.push(Buffer.from(chunk)));
  const d1: Buffer[] = [], d2: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const x = randomBytes(70_000), y = randomBytes(90_000);
    d1.push(x);
    d2.push(y);
    s1.write(x);
    s2.write(y);
  }
  const n1 = d1.reduce((n, b) => n + b.length, 0), n2 = d2.reduce((n, b) => n + b.length, 0);
  t.ok(await until(() => Buffer.concat(got1).length === n1 && Buffer.concat(got2).length === n2));
  t.ok(Buffer.concat(got1).equals(Buffer.concat(d1)), 'socket 1: its own bytes, in order');
  t.ok(Buffer.concat(got2).equals(Buffer.concat(d2)), 'socket 2: its own bytes, in order');
  for (const x of [c1, c2, s1, s2]) x.destroy();
  await srv.close();
});

t.test('an accepted socket reads through data events, and stops when told', async (t) => {
  const srv = await server();
  const c = net.connect(srv.port, '127.0.0.1');
  const s = await srv.accepted[0];
  const got: Buffer[] = [];
  const stop = onReads(s, (chunk) => got.push(Buffer.from(chunk)));
  t.equal(s.listenerCount('data'), 1);
  c.write('hello');
  t.ok(await until(() => Buffer.concat(got).toString() === 'hello'));
  stop();
  t.equal(s.listenerCount('data'), 0);
  c.destroy();
  s.destroy();
  await srv.close();
});
