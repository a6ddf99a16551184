// ntor v3 (Tor proposal 332): Tor's test vector byte for byte on both backends, round trips across
// backends and message sizes, and every kind of bad input on both sides giving its typed error.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { fromHex, toHex, utf8 } from '../../crypto/bytes.ts';
import { isCryptoError } from '../../crypto/errors.ts';
import { NTOR3_CIRC_VERIFICATION } from '../../crypto/constants.ts';
import {
  ntor3ClientFinish,
  ntor3ClientStart,
  ntor3ServerHandle,
  type Ntor3KeyPair,
  type Ntor3RelayKeys,
} from '../../crypto/ntor3.ts';
import vectors from '../vectors/ntor_v3.json' with { type: 'json' };

const BACKENDS: CryptoBackend[] = [nodeBackend, nobleBackend];
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const V = vectors.vectors[0];
const h = fromHex;

function keyPair(be: CryptoBackend = nodeBackend): Ntor3KeyPair {
  const secret = rnd(32);
  return { secret, publicKey: be.x25519.publicKey(secret) };
}

/** A relay with one onion key, and the client-side view of it. */
function relay(be: CryptoBackend = nodeBackend) {
  const onion = keyPair(be);
  const keys: Ntor3RelayKeys = { relayId: rnd(32), onionKeys: [onion] };
  return { keys, id: keys.relayId, B: onion.publicKey };
}

const VER = utf8(NTOR3_CIRC_VERIFICATION);

t.test('Tor test vector, byte for byte, on both backends', async (t) => {
  for (const be of BACKENDS) {
    t.equal(toHex(be.x25519.publicKey(h(V.b))), V.B, `${be.name}: B = b·G`);
    t.equal(toHex(be.x25519.publicKey(h(V.x))), V.X, `${be.name}: X = x·G`);
    t.equal(toHex(be.x25519.publicKey(h(V.y))), V.Y, `${be.name}: Y = y·G`);
    const { onionskin, state } = ntor3ClientStart({
      relayId: h(V.ID), relayOnionKey: h(V.B), message: h(V.client_message), verification: h(V.verification),
      backend: be, ephemeral: { secret: h(V.x), publicKey: h(V.X) },
    });
    t.equal(toHex(onionskin), V.client_handshake, `${be.name}: client handshake`);

    let seen: Uint8Array | undefined;
    const server = ntor3ServerHandle({
      onionskin,
      keys: { relayId: h(V.ID), onionKeys: [{ secret: h(V.b), publicKey: h(V.B) }] },
      verification: h(V.verification),
      reply: (cm) => { seen = cm; return h(V.server_message); },
      backend: be,
      ephemeral: { secret: h(V.y), publicKey: h(V.Y) },
    });
    t.equal(toHex(server.reply), V.server_handshake, `${be.name}: server handshake`);
    t.equal(seen && toHex(seen), V.client_message, `${be.name}: reply callback got CM`);
    t.equal(toHex(server.clientMessage), V.client_message);

    const client = ntor3ClientFinish(state, server.reply);
    t.equal(toHex(client.serverMessage), V.server_message, `${be.name}: client recovers SM`);
    t.equal(toHex(client.keyMaterial(256)), V.keys, `${be.name}: client key stream`);
    // The server reads the same stream in pieces, across the first internal buffer boundary.
    const parts = [server.keyMaterial(0), server.keyMaterial(80), server.keyMaterial(80), server.keyMaterial(96)];
    t.equal(parts.map(toHex).join(''), V.keys, `${be.name}: server key stream, read in pieces`);
    t.same(client.keyMaterial(700), server.keyMaterial(700), `${be.name}: streams agree past the vector`);
  }
});

t.test('round trips: message sizes, backends mixed, default backend', async (t) => {
  const sizes = [0, 1, 15, 16, 17, 100, 461];
  const pairs: [CryptoBackend | undefined, CryptoBackend | undefined][] = [
    [undefined, undefined], [nodeBackend, nobleBackend], [nobleBackend, nodeBackend], [nobleBackend, nobleBackend],
  ];
  for (const [cb, sb] of pairs) {
    const r = relay();
    const ver = rnd(cb === sb ? 0 : 40);
    for (const [i, n] of sizes.entries()) {
      if (cb === nobleBackend && sb === nobleBackend && i % 3 !== 0) continue; // noble is slow; sample it
      const cm = rnd(n), sm = rnd(sizes[sizes.length - 1 - i]);
      const { onionskin, state } = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: ver, backend: cb });
      t.equal(onionskin.length, 128 + n);
      const s = ntor3ServerHandle({ onionskin, keys: r.keys, verification: ver, reply: () => sm, backend: sb });
      t.equal(s.reply.length, 64 + sm.length);
      t.same(s.clientMessage, cm);
      const c = ntor3ClientFinish(state, s.reply);
      t.same(c.serverMessage, sm);
      const ck = c.keyMaterial(160), sk = s.keyMaterial(80);
      t.same(ck.subarray(0, 80), sk);
      t.same(ck.subarray(80), s.keyMaterial(80), 'two 80-byte seeds, forward and backward');
      t.notSame(ck.subarray(0, 80), ck.subarray(80));
    }
  }
});

t.test('fresh handshakes give fresh onionskins and keys', async (t) => {
  const r = relay();
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const { onionskin, state } = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: new Uint8Array(0), verification: VER });
    const s = ntor3ServerHandle({ onionskin, keys: r.keys, verification: VER, reply: new Uint8Array(0) });
    const k = toHex(ntor3ClientFinish(state, s.reply).keyMaterial(32));
    seen.add(toHex(onionskin.subarray(64, 96)) + k);
  }
  t.equal(seen.size, 10);
});

t.test('several onion keys: matched by B; an unknown B or another relay ID is BAD_KEY', async (t) => {
  for (const be of BACKENDS) {
    const current = keyPair(be), previous = keyPair(be), other = keyPair(be);
    const keys: Ntor3RelayKeys = { relayId: rnd(32), onionKeys: [current, previous] };
    for (const k of [current, previous]) {
      const { onionskin, state } = ntor3ClientStart({ relayId: keys.relayId, relayOnionKey: k.publicKey, message: utf8('hi'), verification: VER, backend: be });
      const s = ntor3ServerHandle({ onionskin, keys, verification: VER, reply: utf8('yo'), backend: be });
      t.same(ntor3ClientFinish(state, s.reply).serverMessage, utf8('yo'));
    }
    let called = false;
    const reply = () => { called = true; return new Uint8Array(0); };
    const unknownB = ntor3ClientStart({ relayId: keys.relayId, relayOnionKey: other.publicKey, message: utf8('hi'), verification: VER, backend: be });
    t.throws(() => ntor3ServerHandle({ onionskin: unknownB.onionskin, keys, verification: VER, reply, backend: be }),
      { name: 'CryptoError', code: 'BAD_KEY' }, `${be.name}: unknown B`);
    const otherId = ntor3ClientStart({ relayId: rnd(32), relayOnionKey: current.publicKey, message: utf8('hi'), verification: VER, backend: be });
    t.throws(() => ntor3ServerHandle({ onionskin: otherId.onionskin, keys, verification: VER, reply, backend: be }),
      { name: 'CryptoError', code: 'BAD_KEY' }, `${be.name}: another relay's ID`);
    t.throws(() => ntor3ServerHandle({ onionskin: otherId.onionskin, keys: { ...keys, onionKeys: [] }, verification: VER, reply, backend: be }),
      { name: 'CryptoError', code: 'BAD_KEY' }, `${be.name}: no onion keys at all`);
    t.notOk(called, 'the reply callback never ran');
  }
});

t.test('a relay without b: its MAC check fails, and an impostor reply fails AUTH', async (t) => {
  for (const be of BACKENDS) {
    const r = relay(be);
    const cm = utf8('extensions');
    // The relay holds B but the wrong secret for it: MSG_MAC cannot verify.
    const a = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: VER, backend: be });
    const wrongB: Ntor3RelayKeys = { relayId: r.id, onionKeys: [{ secret: rnd(32), publicKey: r.B }] };
    t.throws(() => ntor3ServerHandle({ onionskin: a.onionskin, keys: wrongB, verification: VER, reply: cm, backend: be }),
      { name: 'CryptoError', code: 'BAD_MAC' }, `${be.name}: server with the wrong b`);

    // An impostor with its own onion key B' answers a handshake made with the same x: the reply is
    // well formed and valid for a client that targeted B', but AUTH fails for the one that targeted B.
    const x = keyPair(be);
    const impostor = keyPair(be);
    const mine = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: VER, backend: be, ephemeral: x });
    const theirs = ntor3ClientStart({ relayId: r.id, relayOnionKey: impostor.publicKey, message: cm, verification: VER, backend: be, ephemeral: x });
    const fake = ntor3ServerHandle({ onionskin: theirs.onionskin, keys: { relayId: r.id, onionKeys: [impostor] }, verification: VER, reply: cm, backend: be });
    t.throws(() => ntor3ClientFinish(mine.state, fake.reply), { name: 'CryptoError', code: 'BAD_MAC' }, `${be.name}: impostor AUTH`);
    t.same(ntor3ClientFinish(theirs.state, fake.reply).serverMessage, cm, 'the same reply is fine for its own client');

    // A genuine reply to another handshake (replayed) fails too.
    const b = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: VER, backend: be });
    const c = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: VER, backend: be });
    const replyToC = ntor3ServerHandle({ onionskin: c.onionskin, keys: r.keys, verification: VER, reply: cm, backend: be }).reply;
    t.throws(() => ntor3ClientFinish(b.state, replyToC), { name: 'CryptoError', code: 'BAD_MAC' }, `${be.name}: replayed reply`);
  }
});

t.test('verification strings must match', async (t) => {
  const r = relay();
  const { onionskin, state } = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('m'), verification: utf8('xyzzy') });
  for (const ver of [utf8('xyzzY'), utf8('xyzz'), utf8('xyzzy\0'), new Uint8Array(0)]) {
    t.throws(() => ntor3ServerHandle({ onionskin, keys: r.keys, verification: ver, reply: utf8('r') }), { name: 'CryptoError', code: 'BAD_MAC' });
  }
  const s = ntor3ServerHandle({ onionskin, keys: r.keys, verification: utf8('xyzzy'), reply: utf8('r') });
  t.same(ntor3ClientFinish(state, s.reply).serverMessage, utf8('r'));
});

t.test('onionskin tampering: every field, truncation, extension', async (t) => {
  for (const be of BACKENDS) {
    const r = relay(be);
    const cm = rnd(24);
    const { onionskin } = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: cm, verification: VER, backend: be });
    const L = onionskin.length; // 128 + 24
    let called = 0;
    const handle = (o: Uint8Array) => ntor3ServerHandle({ onionskin: o, keys: r.keys, verification: VER, reply: () => { called++; return cm; }, backend: be });
    t.same(handle(onionskin).clientMessage, cm, 'the untouched onionskin works');
    called = 0;
    const fields: [string, number, number, string][] = [
      ['ID', 0, 32, 'BAD_KEY'], ['B', 32, 64, 'BAD_KEY'], ['X', 64, 96, 'BAD_MAC'],
      ['ENC(CM)', 96, L - 32, 'BAD_MAC'], ['MAC', L - 32, L, 'BAD_MAC'],
    ];
    const step = be === nobleBackend ? 11 : 3;
    for (const [name, from, to, code] of fields) {
      for (let i = from; i < to; i += step) {
        const bad = onionskin.slice();
        bad[i] ^= 1 << (i % 8);
        t.throws(() => handle(bad), { name: 'CryptoError', code }, `${be.name}: flip in ${name} at ${i}`);
      }
      const last = onionskin.slice();
      last[to - 1] ^= 0x80; // in X this is the bit X25519 ignores: the MAC still covers it
      t.throws(() => handle(last), { name: 'CryptoError', code }, `${be.name}: top bit of ${name}'s last byte`);
    }
    for (let n = 0; n < 128; n++) {
      t.throws(() => handle(onionskin.subarray(0, n)), { name: 'CryptoError', code: 'BAD_MESSAGE' }, `truncated to ${n}`);
    }
    for (let n = 128; n < L; n += be === nobleBackend ? 8 : 1) {
      t.throws(() => handle(onionskin.subarray(0, n)), { name: 'CryptoError', code: 'BAD_MAC' }, `truncated to ${n}`);
    }
    for (const extra of [1, 16, 100]) {
      const long = new Uint8Array(L + extra);
      long.set(onionskin);
      t.throws(() => handle(long), { name: 'CryptoError', code: 'BAD_MAC' }, `extended by ${extra}`);
    }
    const lowX = onionskin.slice();
    lowX.fill(0, 64, 96);
    t.throws(() => handle(lowX), { name: 'CryptoError', code: 'BAD_KEY' }, 'a low-order X');
    t.equal(called, 0, `${be.name}: the reply callback ran for none of them`);
  }
});

t.test('reply tampering: every field, truncation, extension, low-order Y', async (t) => {
  for (const be of BACKENDS) {
    const r = relay(be);
    const sm = rnd(20);
    const start = () => ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('c'), verification: VER, backend: be, ephemeral: x });
    const x = keyPair(be); // one x, so one relay reply can be tried against many fresh states
    const { onionskin } = start();
    const reply = ntor3ServerHandle({ onionskin, keys: r.keys, verification: VER, reply: sm, backend: be }).reply;
    const L = reply.length; // 64 + 20
    const finish = (rep: Uint8Array) => ntor3ClientFinish(start().state, rep);
    t.same(finish(reply).serverMessage, sm, 'the untouched reply works');
    const step = be === nobleBackend ? 13 : 3;
    for (const [name, from, to] of [['Y', 0, 32], ['AUTH', 32, 64], ['ENC(SM)', 64, L]] as const) {
      for (let i = from; i < to; i += step) {
        const bad = reply.slice();
        bad[i] ^= 1 << (i % 8);
        t.throws(() => finish(bad), { name: 'CryptoError', code: 'BAD_MAC' }, `${be.name}: flip in ${name} at ${i}`);
      }
      const last = reply.slice();
      last[to - 1] ^= 0x80;
      t.throws(() => finish(last), { name: 'CryptoError', code: 'BAD_MAC' }, `${be.name}: top bit of ${name}'s last byte`);
    }
    for (let n = 0; n < 64; n += be === nobleBackend ? 9 : 1) {
      t.throws(() => finish(reply.subarray(0, n)), { name: 'CryptoError', code: 'BAD_MESSAGE' }, `truncated to ${n}`);
    }
    for (let n = 64; n < L; n += be === nobleBackend ? 7 : 1) {
      t.throws(() => finish(reply.subarray(0, n)), { name: 'CryptoError', code: 'BAD_MAC' }, `truncated to ${n}`);
    }
    for (const extra of [1, 16, 100]) {
      const long = new Uint8Array(L + extra);
      long.set(reply);
      t.throws(() => finish(long), { name: 'CryptoError', code: 'BAD_MAC' }, `extended by ${extra}`);
    }
    const lowY = reply.slice();
    lowY.fill(0, 0, 32);
    t.throws(() => finish(lowY), { name: 'CryptoError', code: 'BAD_KEY' }, 'a low-order Y');
  }
});

t.test('random garbage and random mutations never succeed and never crash', async (t) => {
  const r = relay();
  const x = keyPair();
  const start = () => ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: rnd(9), verification: VER, ephemeral: x });
  const { onionskin } = start();
  const reply = ntor3ServerHandle({ onionskin, keys: r.keys, verification: VER, reply: rnd(7) }).reply;
  const mutate = (b: Uint8Array, i: number): Uint8Array => {
    switch (i % 3) {
      case 0: { const c = b.slice(); c[i % c.length] ^= 1 + (i % 255); return c; }
      case 1: return b.subarray(0, i % b.length);
      default: { const c = new Uint8Array(b.length + 1 + (i % 40)); c.set(b); return c; }
    }
  };
  const failsTyped = (fn: () => unknown): boolean => {
    try { fn(); return false; } catch (e) { return isCryptoError(e); }
  };
  let ok = 0;
  for (let i = 0; i < 150; i++) {
    ok += +failsTyped(() => ntor3ServerHandle({ onionskin: mutate(onionskin, i), keys: r.keys, verification: VER, reply: new Uint8Array(0) }));
    ok += +failsTyped(() => ntor3ClientFinish(start().state, mutate(reply, i)));
    ok += +failsTyped(() => ntor3ServerHandle({ onionskin: rnd(i * 3), keys: r.keys, verification: VER, reply: new Uint8Array(0) }));
    ok += +failsTyped(() => ntor3ClientFinish(start().state, rnd(i)));
  }
  t.equal(ok, 600, 'every mutated or random input threw a CryptoError');
});

t.test('client state is single-use', async (t) => {
  const r = relay();
  const a = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('m'), verification: VER });
  const reply = ntor3ServerHandle({ onionskin: a.onionskin, keys: r.keys, verification: VER, reply: utf8('r') }).reply;
  ntor3ClientFinish(a.state, reply);
  t.throws(() => ntor3ClientFinish(a.state, reply), { name: 'CryptoError', code: 'BAD_STATE' }, 'after a success');
  const b = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('m'), verification: VER });
  const goodB = ntor3ServerHandle({ onionskin: b.onionskin, keys: r.keys, verification: VER, reply: utf8('r') }).reply;
  const badB = goodB.slice();
  badB[40] ^= 1;
  t.throws(() => ntor3ClientFinish(b.state, badB), { name: 'CryptoError', code: 'BAD_MAC' });
  t.throws(() => ntor3ClientFinish(b.state, goodB), { name: 'CryptoError', code: 'BAD_STATE' }, 'a failure consumes the state too');
  const c = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('m'), verification: VER });
  t.throws(() => ntor3ClientFinish(c.state, new Uint8Array(3)), { name: 'CryptoError', code: 'BAD_MESSAGE' });
  t.throws(() => ntor3ClientFinish(c.state, goodB), { name: 'CryptoError', code: 'BAD_STATE' });
});

t.test('the reply callback: sees CM, may refuse, may return nothing', async (t) => {
  const r = relay();
  const a = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: utf8('ask'), verification: VER });
  t.throws(() => ntor3ServerHandle({ onionskin: a.onionskin, keys: r.keys, verification: VER, reply: () => { throw new Error('refused'); } }),
    { message: 'refused' });
  const s = ntor3ServerHandle({ onionskin: a.onionskin, keys: r.keys, verification: VER, reply: (cm) => cm.subarray(0, 0) });
  t.equal(s.reply.length, 64);
  t.same(ntor3ClientFinish(a.state, s.reply).serverMessage, new Uint8Array(0));
});

t.test('key material reads in order and checks its argument', async (t) => {
  const r = relay();
  const a = ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: new Uint8Array(0), verification: VER });
  const s = ntor3ServerHandle({ onionskin: a.onionskin, keys: r.keys, verification: VER, reply: new Uint8Array(0) });
  const c = ntor3ClientFinish(a.state, s.reply);
  const whole = c.keyMaterial(5000);
  const pieces: Uint8Array[] = [];
  for (const n of [1, 238, 1, 300, 2000, 2460]) pieces.push(s.keyMaterial(n));
  t.same(Buffer.concat(pieces), Buffer.from(whole));
  t.same(c.keyMaterial(0), new Uint8Array(0));
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) t.throws(() => c.keyMaterial(bad), RangeError);
  t.throws(() => c.keyMaterial(1 << 20), RangeError, 'over 1 MiB in all');
});

t.test('API misuse is TypeError/RangeError, not CryptoError', async (t) => {
  const r = relay();
  t.throws(() => ntor3ClientStart({ relayId: rnd(31), relayOnionKey: r.B, message: rnd(1), verification: VER }), RangeError);
  t.throws(() => ntor3ClientStart({ relayId: r.id, relayOnionKey: rnd(33), message: rnd(1), verification: VER }), RangeError);
  t.throws(() => ntor3ClientStart({ relayId: r.id, relayOnionKey: r.B, message: 'hi' as unknown as Uint8Array, verification: VER }), TypeError);
  t.throws(() => ntor3ClientFinish({} as never, rnd(64)), TypeError);
  t.throws(() => ntor3ServerHandle({ onionskin: 'x' as unknown as Uint8Array, keys: r.keys, verification: VER, reply: rnd(1) }), TypeError);
  const lowB = new Uint8Array(32);
  t.throws(() => ntor3ClientStart({ relayId: r.id, relayOnionKey: lowB, message: rnd(1), verification: VER }),
    { name: 'CryptoError', code: 'BAD_KEY' }, 'a low-order onion key from a descriptor');
});
