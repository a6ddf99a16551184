// Differential tests: the native backend (libsodium curves, OpenSSL symmetric), the all-OpenSSL
// backend and the noble backend against each other on random inputs, plus the misuse and
// hostile-input behaviour they must share.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import t from 'tap';
import { nodeBackend, opensslBackend } from '../../crypto/backend-node.ts';
import { nobleBackend } from '../../crypto/backend-noble.ts';

const N = nodeBackend;
const B = nobleBackend;
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const ROUNDS = 25;

t.test('hashes agree', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const a = rnd(i * 37), b = rnd(i);
    t.same(N.sha256(a, b), B.sha256(a, b));
    t.same(N.sha3_256(a, b), B.sha3_256(a, b));
    t.same(N.shake256(1 + i * 13, a, b), B.shake256(1 + i * 13, a, b));
    t.same(N.hmacSha256(b, a), B.hmacSha256(b, a));
  }
  for (const keyLen of [0, 1, 63, 64, 65, 200]) {
    for (const msgLen of [0, 511, 512, 513, 3000]) {
      const key = rnd(keyLen), m = rnd(msgLen);
      t.same(N.hmacSha256(key, m), B.hmacSha256(key, m), `hmac key ${keyLen} msg ${msgLen}`);
      t.same(N.sha256(m, key), B.sha256(m, key), `sha256 of ${msgLen + keyLen} bytes in two parts`);
    }
  }
  // RFC 4231 test case 2 (HMAC-SHA256, key "Jefe")
  t.equal(
    Buffer.from(N.hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))).toString('hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  // FIPS 202 / RFC 6234 known answers for the empty string
  t.equal(Buffer.from(N.sha3_256()).toString('hex'), 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  t.equal(Buffer.from(N.sha256()).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('one-shot hashing (one part, OpenSSL) agrees with noble at buffer-size edges', async (t) => {
  for (const n of [0, 1, 511, 513, 4096, 32809]) {
    const x = globalThis.crypto.getRandomValues(new Uint8Array(n));
    t.same(opensslBackend.sha256(x), nobleBackend.sha256(x), `one-part sha256 of ${n} bytes`);
    t.same(opensslBackend.sha3_256(x), nobleBackend.sha3_256(x), `one-part sha3-256 of ${n} bytes`);
  }
});

const O = opensslBackend;

t.test('x25519 agrees, generate() is consistent, low-order keys are refused', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const o = O.x25519.generate(), n = N.x25519.generate();
    t.same(N.x25519.publicKey(o.secret), o.publicKey);
    t.same(O.x25519.publicKey(n.secret), n.publicKey);
    t.same(N.x25519.dh(n.secret, o.publicKey), O.x25519.dh(o.secret, n.publicKey), 'libsodium and OpenSSL agree');
    const a = N.x25519.generate(), b = B.x25519.generate();
    t.same(B.x25519.publicKey(a.secret), a.publicKey);
    t.same(N.x25519.publicKey(b.secret), b.publicKey);
    t.same(N.x25519.dh(a.secret, b.publicKey), B.x25519.dh(b.secret, a.publicKey));
  }
  for (const be of [N, O, B]) {
    t.throws(() => be.x25519.dh(rnd(32), new Uint8Array(32)), { name: 'CryptoError', code: 'BAD_KEY' }, `${be.name} zero point`);
    t.throws(() => be.x25519.dh(rnd(32), rnd(31)), RangeError, `${be.name} short key`);
  }
});

t.test('a reused key buffer is never served from a stale cache', async (t) => {
  for (const be of [O, N]) {
    const secret = rnd(32);
    const p1 = be.x25519.publicKey(secret);
    secret.set(rnd(32));
    t.same(be.x25519.publicKey(secret), B.x25519.publicKey(secret));
    t.not(Buffer.from(p1).toString('hex'), Buffer.from(be.x25519.publicKey(secret)).toString('hex'));
    const seed = rnd(32);
    const sig1 = be.ed25519.sign(seed, rnd(3));
    seed.set(rnd(32));
    const m = rnd(3);
    t.ok(B.ed25519.verify(B.ed25519.publicKey(seed), m, be.ed25519.sign(seed, m)), `${be.name} re-expands a changed seed`);
    t.not(Buffer.from(sig1).toString('hex'), '');
  }
});

t.test('ed25519 agrees and rejects tampering', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const seed = rnd(32), msg = rnd(i * 11);
    const pk = N.ed25519.publicKey(seed);
    t.same(B.ed25519.publicKey(seed), pk);
    t.same(O.ed25519.publicKey(seed), pk);
    const sig = N.ed25519.sign(seed, msg);
    t.same(B.ed25519.sign(seed, msg), sig, 'signatures are deterministic and equal');
    t.same(O.ed25519.sign(seed, msg), sig);
    t.ok(B.ed25519.verify(pk, msg, sig) && N.ed25519.verify(pk, msg, sig) && O.ed25519.verify(pk, msg, sig));
    const bad = sig.slice();
    bad[i % 64] ^= 1;
    t.notOk(N.ed25519.verify(pk, msg, bad) || B.ed25519.verify(pk, msg, bad) || O.ed25519.verify(pk, msg, bad));
  }
  for (const be of [N, O, B]) {
    t.notOk(be.ed25519.verify(rnd(31), rnd(5), rnd(64)), `${be.name} short key`);
    t.notOk(be.ed25519.verify(rnd(32), rnd(5), rnd(63)), `${be.name} short signature`);
    t.notOk(be.ed25519.verify(new Uint8Array(32), rnd(5), rnd(64)), `${be.name} garbage`);
  }
});

t.test('chacha20-poly1305 agrees and rejects tampering', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const key = rnd(32), nonce = rnd(12), ad = rnd(i), pt = rnd(i * 101);
    const ct = N.chacha20poly1305.seal(key, nonce, ad, pt);
    t.same(B.chacha20poly1305.seal(key, nonce, ad, pt), ct);
    t.same(N.chacha20poly1305.open(key, nonce, ad, ct), pt);
    const bad = ct.slice();
    bad[(i * 7) % bad.length] ^= 0x80;
    for (const be of [N, B])
      t.throws(() => be.chacha20poly1305.open(key, nonce, ad, bad), { name: 'CryptoError', code: 'DECRYPT_FAILED' });
  }
  t.throws(() => N.chacha20poly1305.open(rnd(32), rnd(12), rnd(0), rnd(15)), { name: 'CryptoError', code: 'DECRYPT_FAILED' });
});

t.test('chacha20-poly1305 opens into a caller buffer: a view of it, the same plaintext', async (t) => {
  for (const be of [N, opensslBackend, B]) {
    const into = new Uint8Array(4096);
    for (let i = 0; i < 8; i++) {
      const key = rnd(32), nonce = rnd(12), ad = rnd(i), pt = rnd(i * 331);
      const ct = be.chacha20poly1305.seal(key, nonce, ad, pt);
      const got = be.chacha20poly1305.open(key, nonce, ad, ct, into);
      t.same(got, pt, `${be.name}: ${pt.length} bytes`);
      t.equal(got.buffer, into.buffer, `${be.name}: written into the caller's buffer`);
      t.equal(got.length, pt.length);
    }
    const key = rnd(32), nonce = rnd(12), ct = be.chacha20poly1305.seal(key, nonce, rnd(0), rnd(100));
    t.throws(() => be.chacha20poly1305.open(key, nonce, rnd(0), ct, new Uint8Array(99)), RangeError, `${be.name}: too small a buffer`);
    const bad = ct.slice();
    bad[3] ^= 1;
    t.throws(() => be.chacha20poly1305.open(key, nonce, rnd(0), bad, into), { name: 'CryptoError', code: 'DECRYPT_FAILED' });
  }
});

t.test('aes-ctr and aes-ecb agree, including counter wrap', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const key = rnd(i % 2 ? 16 : 32), iv = rnd(16), data = rnd(i * 29);
    iv.fill(0xff, 4); // force carries across all 128 bits of the counter
    t.same(N.aesCtr(key, iv, data), B.aesCtr(key, iv, data));
    const blocks = rnd(16 * i);
    t.same(N.aesEcb(key, blocks), B.aesEcb(key, blocks));
    t.same(N.aesEcb(key, N.aesEcb(key, blocks), true), blocks);
  }
  t.throws(() => N.aesEcb(rnd(16), rnd(15)), RangeError);
});

t.test('chacha20Xor: the RFC 7539 AEAD example from counter 1, the AEAD keystream, three backends alike', async (t) => {
  const v = JSON.parse(fs.readFileSync(new URL('../vectors/chacha20poly1305_rfc7539.json', import.meta.url), 'utf8'));
  const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
  for (const backend of [nodeBackend, opensslBackend, nobleBackend]) {
    t.same(backend.chacha20Xor(hex(v.key), hex(v.iv), 1, hex(v.msg)), hex(v.ct), `${backend.name}: the vector's ciphertext`);
    t.same(backend.chacha20poly1305.seal(hex(v.key), hex(v.iv), hex(v.aad), hex(v.msg)), hex(v.ct + v.tag), `${backend.name}: and the AEAD agrees`);
  }
  for (let i = 0; i < ROUNDS; i++) {
    const key = rnd(32), nonce = rnd(12), data = rnd(i * 29 + 1);
    const sealed = N.chacha20poly1305.seal(key, nonce, new Uint8Array(0), data);
    t.same(N.chacha20Xor(key, nonce, 1, data), sealed.subarray(0, data.length), 'counter 1 is what the AEAD encrypts with');
    for (const counter of [0, 7, 2 ** 31]) {
      const want = B.chacha20Xor(key, nonce, counter, data);
      t.same(N.chacha20Xor(key, nonce, counter, data), want);
      t.same(opensslBackend.chacha20Xor(key, nonce, counter, data), want);
    }
    const inPlace = data.slice();
    t.equal(N.chacha20Xor(key, nonce, 3, inPlace, inPlace).buffer, inPlace.buffer, 'in place: written over the input');
    t.same(inPlace, B.chacha20Xor(key, nonce, 3, data));
  }
  for (const backend of [nodeBackend, opensslBackend, nobleBackend]) {
    t.throws(() => backend.chacha20Xor(rnd(31), rnd(12), 1, rnd(4)), RangeError);
    t.throws(() => backend.chacha20Xor(rnd(32), rnd(8), 1, rnd(4)), RangeError);
    t.throws(() => backend.chacha20Xor(rnd(32), rnd(12), -1, rnd(4)), RangeError);
    t.throws(() => backend.chacha20Xor(rnd(32), rnd(12), 1, rnd(4), new Uint8Array(2)), RangeError);
  }
});
