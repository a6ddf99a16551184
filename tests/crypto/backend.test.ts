// Differential tests: the node:crypto backend against the noble backend, on random inputs, plus
// the misuse and hostile-input behaviour both must share.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
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
  // FIPS 202 / RFC 6234 known answers for the empty string
  t.equal(Buffer.from(N.sha3_256()).toString('hex'), 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  t.equal(Buffer.from(N.sha256()).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('x25519 agrees, generate() is consistent, low-order keys are refused', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const a = N.x25519.generate(), b = B.x25519.generate();
    t.same(B.x25519.publicKey(a.secret), a.publicKey);
    t.same(N.x25519.publicKey(b.secret), b.publicKey);
    t.same(N.x25519.dh(a.secret, b.publicKey), B.x25519.dh(b.secret, a.publicKey));
  }
  for (const be of [N, B]) {
    t.throws(() => be.x25519.dh(rnd(32), new Uint8Array(32)), { name: 'CryptoError', code: 'BAD_KEY' }, `${be.name} zero point`);
    t.throws(() => be.x25519.dh(rnd(32), rnd(31)), RangeError, `${be.name} short key`);
  }
});

t.test('a reused key buffer is never served from a stale cache', async (t) => {
  const secret = rnd(32);
  const p1 = N.x25519.publicKey(secret);
  secret.set(rnd(32));
  t.same(N.x25519.publicKey(secret), B.x25519.publicKey(secret));
  t.not(Buffer.from(p1).toString('hex'), Buffer.from(N.x25519.publicKey(secret)).toString('hex'));
});

t.test('ed25519 agrees and rejects tampering', async (t) => {
  for (let i = 0; i < ROUNDS; i++) {
    const seed = rnd(32), msg = rnd(i * 11);
    const pk = N.ed25519.publicKey(seed);
    t.same(B.ed25519.publicKey(seed), pk);
    const sig = N.ed25519.sign(seed, msg);
    t.same(B.ed25519.sign(seed, msg), sig, 'signatures are deterministic and equal');
    t.ok(B.ed25519.verify(pk, msg, sig) && N.ed25519.verify(pk, msg, sig));
    const bad = sig.slice();
    bad[i % 64] ^= 1;
    t.notOk(N.ed25519.verify(pk, msg, bad) || B.ed25519.verify(pk, msg, bad));
  }
  t.notOk(N.ed25519.verify(rnd(31), rnd(5), rnd(64)));
  t.notOk(N.ed25519.verify(rnd(32), rnd(5), rnd(63)));
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
