// Noise_XK_25519_ChaChaPoly_SHA256 (crypto/noise.ts): every cacophony XK vector (handshake messages
// byte for byte, handshake hash, then the transport messages, which continue the alternation: the
// responder sends the first one, as the Noise wiki "Test vectors" page says) on both backends; random
// handshakes (also node against noble); and the failure rules: wrong key, tampering at each step,
// out-of-turn calls, and a transport that dies on the first bad message.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { fromHex, toHex, utf8 } from '../../crypto/bytes.ts';
import { NOISE_MAX_MESSAGE, NOISE_MAX_PLAINTEXT } from '../../crypto/constants.ts';
import {
  createInitiator, createResponder, dangerouslySetNonce, type NoiseHandshake, type NoiseKeyPair, Transport,
} from '../../crypto/noise.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string; init_static: string; init_ephemeral: string; init_remote_static: string;
  resp_prologue: string; resp_static: string; resp_ephemeral: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}
const file = JSON.parse(readFileSync(new URL('../vectors/noise_cacophony.json', import.meta.url), 'utf8')) as {
  source: string; vectors: Vector[];
};
type Asserts = Pick<typeof t, 'throws' | 'notOk'>;
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BACKENDS: CryptoBackend[] = [nodeBackend, nobleBackend];
const BAD_STATE = { name: 'CryptoError', code: 'BAD_STATE' };
const DECRYPT_FAILED = { name: 'CryptoError', code: 'DECRYPT_FAILED' };
const MAX_NONCE = (1n << 64n) - 1n;
/** X25519 points whose shared secret is all zero: 0, 1, and a point of order 8 (RFC 7748 §6.1 check). */
const LOW_ORDER = [
  new Uint8Array(32),
  fromHex('0100000000000000000000000000000000000000000000000000000000000000'),
  fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
];

const keyPair = (be: CryptoBackend, secret: Uint8Array): NoiseKeyPair => ({ secret, publicKey: be.x25519.publicKey(secret) });

interface Pair { init: NoiseHandshake; resp: NoiseHandshake; initStatic: NoiseKeyPair; respStatic: NoiseKeyPair }
function newPair(be: CryptoBackend, respBe: CryptoBackend = be): Pair {
  const initStatic = be.x25519.generate(), respStatic = respBe.x25519.generate();
  const prologue = utf8('umbra link v1');
  return {
    init: createInitiator({ staticKey: initStatic, remoteStatic: respStatic.publicKey, prologue, backend: be }),
    resp: createResponder({ staticKey: respStatic, prologue, backend: respBe }),
    initStatic, respStatic,
  };
}

/** Run the handshake; returns the messages on the wire. */
function handshake(p: Pair, payloads: Uint8Array[] = [rnd(0), rnd(0), rnd(0)]): Uint8Array[] {
  const wire: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const [from, to] = i % 2 === 0 ? [p.init, p.resp] : [p.resp, p.init];
    wire.push(from.writeMessage(payloads[i]));
    const got = to.readMessage(wire[i]);
    if (toHex(got) !== toHex(payloads[i])) throw new Error(`payload ${i} garbled`);
  }
  return wire;
}

/** A pair that has exchanged `step` messages, and message `step` written but not yet read. */
function pairAt(be: CryptoBackend, step: number): { receiver: NoiseHandshake; msg: Uint8Array; p: Pair } {
  const p = newPair(be);
  const sides = [p.init, p.resp];
  for (let i = 0; i < step; i++) sides[(i + 1) % 2].readMessage(sides[i % 2].writeMessage(rnd(5)));
  return { receiver: sides[(step + 1) % 2], msg: sides[step % 2].writeMessage(rnd(5)), p };
}

/** Every later call on a failed handshake throws BAD_STATE. */
function assertDead(t: Asserts, hs: NoiseHandshake, msg: Uint8Array): void {
  t.throws(() => hs.readMessage(msg), BAD_STATE, 'read after failure');
  t.throws(() => hs.writeMessage(), BAD_STATE, 'write after failure');
  t.throws(() => hs.split(), BAD_STATE, 'split after failure');
  t.throws(() => hs.handshakeHash, BAD_STATE, 'hash after failure');
  t.notOk(hs.isComplete());
}

t.test('vector file keeps its source and holds only XK/SHA256', async (t) => {
  t.match(file.source, /cacophony/);
  t.ok(file.vectors.length >= 1);
  for (const v of file.vectors) t.equal(v.protocol_name, 'Noise_XK_25519_ChaChaPoly_SHA256');
});

for (const be of BACKENDS) {
  t.test(`cacophony XK vectors (${be.name})`, async (t) => {
    for (const v of file.vectors) {
      const initStatic = keyPair(be, fromHex(v.init_static)), respStatic = keyPair(be, fromHex(v.resp_static));
      t.equal(v.init_remote_static, toHex(respStatic.publicKey));
      const init = createInitiator({
        staticKey: initStatic, remoteStatic: fromHex(v.init_remote_static), prologue: fromHex(v.init_prologue),
        ephemeral: keyPair(be, fromHex(v.init_ephemeral)), backend: be,
      });
      const resp = createResponder({
        staticKey: respStatic, prologue: fromHex(v.resp_prologue),
        ephemeral: keyPair(be, fromHex(v.resp_ephemeral)), backend: be,
      });
      t.ok(v.messages.length > 3, 'the vector has transport messages');
      for (let i = 0; i < 3; i++) {
        const [from, to] = i % 2 === 0 ? [init, resp] : [resp, init];
        const ct = from.writeMessage(fromHex(v.messages[i].payload));
        t.equal(toHex(ct), v.messages[i].ciphertext, `handshake message ${i + 1}`);
        t.equal(toHex(to.readMessage(ct)), v.messages[i].payload);
      }
      t.ok(init.isComplete() && resp.isComplete());
      t.equal(toHex(init.handshakeHash), v.handshake_hash);
      t.equal(toHex(resp.handshakeHash), v.handshake_hash);
      t.equal(toHex(resp.remoteStatic), toHex(initStatic.publicKey), 'responder learned the initiator');
      t.equal(toHex(init.remoteStatic), toHex(respStatic.publicKey));
      const ti = init.split(), tr = resp.split();
      t.equal(toHex(ti.handshakeHash), v.handshake_hash);
      for (let i = 3; i < v.messages.length; i++) {
        const [from, to] = i % 2 === 0 ? [ti, tr] : [tr, ti];
        const ct = from.encrypt(fromHex(v.messages[i].payload));
        t.equal(toHex(ct), v.messages[i].ciphertext, `transport message ${i + 1} (${i % 2 ? 'resp->init' : 'init->resp'})`);
        t.equal(toHex(to.decrypt(ct)), v.messages[i].payload);
      }
    }
  });
}

for (const [a, b] of [[nodeBackend, nodeBackend], [nobleBackend, nobleBackend], [nodeBackend, nobleBackend], [nobleBackend, nodeBackend]]) {
  t.test(`random keys: initiator ${a.name}, responder ${b.name}`, async (t) => {
    const p = newPair(a, b);
    t.throws(() => p.resp.remoteStatic, BAD_STATE, 'unknown before message 3');
    const wire = handshake(p, [utf8('hello'), rnd(100), rnd(0)]);
    t.same(wire.map((m) => m.length), [32 + 5 + 16, 32 + 100 + 16, 48 + 16]);
    t.equal(toHex(p.resp.remoteStatic), toHex(p.initStatic.publicKey));
    t.equal(toHex(p.init.handshakeHash), toHex(p.resp.handshakeHash));
    const ti = p.init.split(), tr = p.resp.split();
    t.equal(toHex(tr.remoteStatic), toHex(p.initStatic.publicKey));
    t.equal(toHex(ti.remoteStatic), toHex(p.respStatic.publicKey));
    for (const len of [0, 1, 1000, NOISE_MAX_PLAINTEXT]) {
      const m = rnd(len), ad = rnd(len % 7);
      const c = ti.encrypt(m, ad);
      t.equal(c.length, len + 16);
      t.same(tr.decrypt(c, ad), m);
      t.same(ti.decrypt(tr.encrypt(m)), m);
    }
    // Two handshakes with the same static keys still differ (fresh ephemerals).
    const q = newPair(a, b);
    handshake(q);
    t.not(toHex(q.init.handshakeHash), toHex(p.init.handshakeHash));
  });
}

for (const be of BACKENDS) {
  t.test(`wrong remote static key fails message 1 (${be.name})`, async (t) => {
    const p = newPair(be);
    const mallory = createInitiator({ staticKey: p.initStatic, remoteStatic: be.x25519.generate().publicKey, backend: be });
    const msg = mallory.writeMessage(utf8('hi'));
    t.throws(() => p.resp.readMessage(msg), DECRYPT_FAILED);
    assertDead(t, p.resp, p.init.writeMessage());
  });

  t.test(`tampered, truncated, extended and oversize messages at each step (${be.name})`, async (t) => {
    for (let step = 0; step < 3; step++) {
      const min = step === 2 ? 64 : 48;
      const cases: [string, (m: Uint8Array) => Uint8Array, { name: string; code: string }][] = [
        ['first byte flipped', (m) => flip(m, 0), DECRYPT_FAILED],
        ['key top bit flipped', (m) => flip(m, 31, 0x80), DECRYPT_FAILED],
        ['payload byte flipped', (m) => flip(m, min - 16), DECRYPT_FAILED],
        ['tag flipped', (m) => flip(m, m.length - 1), DECRYPT_FAILED],
        ['one byte short', (m) => m.subarray(0, m.length - 1), DECRYPT_FAILED],
        ['one byte extra', (m) => concatOne(m), DECRYPT_FAILED],
        ['shorter than its fixed part', (m) => m.subarray(0, min - 1), { name: 'CryptoError', code: 'BAD_MESSAGE' }],
        ['empty', () => new Uint8Array(0), { name: 'CryptoError', code: 'BAD_MESSAGE' }],
        ['over 65535 bytes', () => rnd(NOISE_MAX_MESSAGE + 1), { name: 'CryptoError', code: 'MESSAGE_TOO_LARGE' }],
      ];
      if (step < 2) for (const lo of LOW_ORDER) cases.push(['low-order ephemeral', (m) => withPrefix(m, lo), { name: 'CryptoError', code: 'BAD_KEY' }]);
      for (const [what, mangle, err] of cases) {
        const { receiver, msg } = pairAt(be, step);
        t.throws(() => receiver.readMessage(mangle(msg)), err, `message ${step + 1}: ${what}`);
        assertDead(t, receiver, msg);
      }
      const { receiver, msg } = pairAt(be, step);
      t.doesNotThrow(() => receiver.readMessage(msg), `message ${step + 1} untouched is accepted`);
    }
  });

  t.test(`a low-order initiator static key is refused at message 3 (${be.name})`, async (t) => {
    for (const lo of LOW_ORDER) {
      const respStatic = be.x25519.generate();
      const init = createInitiator({ staticKey: { secret: rnd(32), publicKey: lo }, remoteStatic: respStatic.publicKey, backend: be });
      const resp = createResponder({ staticKey: respStatic, backend: be });
      resp.readMessage(init.writeMessage());
      init.readMessage(resp.writeMessage());
      const m3 = init.writeMessage();
      t.throws(() => resp.readMessage(m3), { name: 'CryptoError', code: 'BAD_KEY' });
      t.throws(() => resp.remoteStatic, BAD_STATE);
    }
  });
}

t.test('calls out of turn throw BAD_STATE and change nothing', async (t) => {
  const p = newPair(nodeBackend);
  t.throws(() => p.init.readMessage(rnd(48)), BAD_STATE, 'initiator reads first');
  t.throws(() => p.resp.writeMessage(), BAD_STATE, 'responder writes first');
  t.throws(() => p.init.split(), BAD_STATE, 'split before completion');
  t.throws(() => p.init.handshakeHash, BAD_STATE, 'hash before completion');
  const m1 = p.init.writeMessage();
  t.throws(() => p.init.writeMessage(), BAD_STATE, 'initiator writes twice');
  p.resp.readMessage(m1);
  t.throws(() => p.resp.readMessage(m1), BAD_STATE, 'responder reads twice');
  const m2 = p.resp.writeMessage();
  t.throws(() => p.resp.writeMessage(), BAD_STATE, 'responder writes message 3');
  p.init.readMessage(m2);
  const m3 = p.init.writeMessage();
  t.throws(() => p.init.readMessage(m2), BAD_STATE, 'initiator reads a 4th message');
  p.resp.readMessage(m3);
  for (const hs of [p.init, p.resp]) {
    t.ok(hs.isComplete());
    t.throws(() => hs.readMessage(m3), BAD_STATE, 'read after completion');
    t.throws(() => hs.writeMessage(), BAD_STATE, 'write after completion');
    t.ok(hs.split() instanceof Transport);
    t.throws(() => hs.split(), BAD_STATE, 'split twice');
  }
});

t.test('handshake payload size limits', async (t) => {
  const p = newPair(nodeBackend);
  t.throws(() => p.init.writeMessage(rnd(NOISE_MAX_MESSAGE - 48 + 1)), { name: 'CryptoError', code: 'MESSAGE_TOO_LARGE' });
  const m1 = p.init.writeMessage(rnd(NOISE_MAX_MESSAGE - 48)); // refusal above changed nothing
  t.equal(m1.length, NOISE_MAX_MESSAGE);
  p.resp.readMessage(m1);
  p.init.readMessage(p.resp.writeMessage());
  t.throws(() => p.init.writeMessage(rnd(NOISE_MAX_MESSAGE - 64 + 1)), { name: 'CryptoError', code: 'MESSAGE_TOO_LARGE' });
  const m3 = p.init.writeMessage(rnd(NOISE_MAX_MESSAGE - 64));
  t.equal(m3.length, NOISE_MAX_MESSAGE);
  p.resp.readMessage(m3);
  t.ok(p.resp.isComplete());
  t.throws(() => createInitiator({ staticKey: p.initStatic, remoteStatic: rnd(31) }), RangeError);
});

/** An established link: initiator and responder transports. */
function link(be: CryptoBackend = nodeBackend): { a: Transport; b: Transport } {
  const p = newPair(be);
  handshake(p);
  return { a: p.init.split(), b: p.resp.split() };
}

for (const be of BACKENDS) {
  t.test(`transport: any bad message is DECRYPT_FAILED, then the receive side is dead (${be.name})`, async (t) => {
    const cases: [string, (a: Transport) => { bad: Uint8Array; next: Uint8Array; ad?: Uint8Array }][] = [
      ['tampered', (a) => ({ bad: flip(a.encrypt(rnd(30)), 3), next: a.encrypt(rnd(1)) })],
      ['tag tampered', (a) => ({ bad: flip(a.encrypt(rnd(30)), 40), next: a.encrypt(rnd(1)) })],
      ['truncated', (a) => ({ bad: a.encrypt(rnd(30)).subarray(0, 45), next: a.encrypt(rnd(1)) })],
      ['shorter than a tag', (a) => ({ bad: a.encrypt(rnd(30)).subarray(0, 15), next: a.encrypt(rnd(1)) })],
      ['extended', (a) => ({ bad: concatOne(a.encrypt(rnd(30))), next: a.encrypt(rnd(1)) })],
      ['wrong ad', (a) => ({ bad: a.encrypt(rnd(30), rnd(3)), next: a.encrypt(rnd(1)), ad: rnd(3) })],
      ['reordered', (a) => {
        const first = a.encrypt(rnd(10));
        return { bad: a.encrypt(rnd(10)), next: first };
      }],
    ];
    for (const [what, make] of cases) {
      const { a, b } = link(be);
      const { bad, next, ad } = make(a);
      t.throws(() => b.decrypt(bad, ad), DECRYPT_FAILED, what);
      t.throws(() => b.decrypt(next), BAD_STATE, `${what}: dead afterwards`);
      t.throws(() => b.rekeyReceive(), BAD_STATE);
    }
    // Replay: the same ciphertext twice.
    const { a, b } = link(be);
    const c0 = a.encrypt(utf8('once')), c1 = a.encrypt(utf8('twice'));
    t.same(b.decrypt(c0), utf8('once'));
    t.throws(() => b.decrypt(c0), DECRYPT_FAILED, 'replayed');
    t.throws(() => b.decrypt(c1), BAD_STATE);
    // Oversize ciphertext.
    const l2 = link(be);
    t.throws(() => l2.b.decrypt(rnd(NOISE_MAX_MESSAGE + 1)), { name: 'CryptoError', code: 'MESSAGE_TOO_LARGE' });
    t.throws(() => l2.b.decrypt(l2.a.encrypt(rnd(1))), BAD_STATE);
  });
}

t.test('transport: rekey on both sides keeps working, one-sided rekey fails', async (t) => {
  const { a, b } = link();
  for (let i = 0; i < 3; i++) {
    a.rekeySend();
    b.rekeyReceive();
    t.same(b.decrypt(a.encrypt(utf8(`a${i}`))), utf8(`a${i}`));
    b.rekeySend();
    a.rekeyReceive();
    t.same(a.decrypt(b.encrypt(utf8(`b${i}`))), utf8(`b${i}`));
  }
  // Rekeying one direction leaves the other alone.
  a.rekeySend();
  t.same(a.decrypt(b.encrypt(utf8('other way'))), utf8('other way'));
  t.throws(() => b.decrypt(a.encrypt(utf8('x'))), DECRYPT_FAILED, 'receiver did not rekey');
  t.throws(() => b.decrypt(a.encrypt(utf8('y'))), BAD_STATE);
  const l2 = link();
  l2.b.rekeyReceive();
  t.throws(() => l2.b.decrypt(l2.a.encrypt(utf8('x'))), DECRYPT_FAILED, 'sender did not rekey');
});

t.test('transport: oversize plaintext refused without using a nonce', async (t) => {
  const { a, b } = link();
  t.throws(() => a.encrypt(rnd(NOISE_MAX_PLAINTEXT + 1)), { name: 'CryptoError', code: 'MESSAGE_TOO_LARGE' });
  t.equal(Transport.MAX_PLAINTEXT, NOISE_MAX_MESSAGE - 16);
  const big = rnd(NOISE_MAX_PLAINTEXT);
  const c = a.encrypt(big);
  t.equal(c.length, NOISE_MAX_MESSAGE);
  t.same(b.decrypt(c), big, 'the refused call consumed no nonce');
});

t.test('transport: nonce 2^64-1 is never used', async (t) => {
  const { a, b } = link();
  dangerouslySetNonce(a, 'send', MAX_NONCE - 1n);
  dangerouslySetNonce(b, 'receive', MAX_NONCE - 1n);
  t.same(b.decrypt(a.encrypt(utf8('last'))), utf8('last'), 'nonce 2^64-2 is the last one');
  t.throws(() => a.encrypt(utf8('one more')), { name: 'CryptoError', code: 'NONCE_EXHAUSTED' });
  t.throws(() => a.encrypt(utf8('one more')), { name: 'CryptoError', code: 'NONCE_EXHAUSTED' }, 'and it stays so');
  t.throws(() => b.decrypt(rnd(20)), { name: 'CryptoError', code: 'NONCE_EXHAUSTED' });
  t.throws(() => b.decrypt(rnd(20)), BAD_STATE);
  // The other direction is independent.
  t.same(a.decrypt(b.encrypt(utf8('still'))), utf8('still'));
});

t.test('transport: close() erases both directions', async (t) => {
  const { a } = link();
  a.close();
  t.throws(() => a.encrypt(rnd(1)), BAD_STATE);
  t.throws(() => a.decrypt(rnd(17)), BAD_STATE);
  t.throws(() => a.rekeySend(), BAD_STATE);
});

function flip(m: Uint8Array, i: number, bit = 1): Uint8Array {
  const out = m.slice();
  out[i] ^= bit;
  return out;
}

function concatOne(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(m.length + 1);
  out.set(m);
  return out;
}

function withPrefix(m: Uint8Array, prefix: Uint8Array): Uint8Array {
  const out = m.slice();
  out.set(prefix, 0);
  return out;
}
