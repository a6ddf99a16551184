// Noise CipherState, SymmetricState and HKDF (crypto/noise-state.ts) against independent
// references: the backend's raw ChaCha20-Poly1305 with hand-built nonces (§5.1, §12.3 nonce
// layout), REKEY built from its definition (§4.2), and RFC 5869 HKDF from node:crypto (§4.3).
import { hkdfSync, randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import type { CryptoBackend } from '../../crypto/backend.ts';
import { concat, toHex, u64le, utf8 } from '../../crypto/bytes.ts';
import { CipherState, hkdf, SymmetricState } from '../../crypto/noise-state.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BACKENDS: CryptoBackend[] = [nodeBackend, nobleBackend];
const MAX = (1n << 64n) - 1n;
/** ChaChaPoly's Noise nonce, built independently: 4 zero bytes ‖ LE64(n). */
const nonceOf = (n: bigint) => concat(new Uint8Array(4), u64le(n));

for (const be of BACKENDS) {
  const seal = be.chacha20poly1305.seal;

  t.test(`nonce layout and counting (${be.name})`, async (t) => {
    const key = rnd(32), ad = rnd(7);
    const cs = new CipherState(be, key.slice());
    for (const n of [0n, 1n, 2n]) {
      const pt = rnd(20);
      t.equal(cs.nonce, n);
      t.equal(toHex(cs.encryptWithAd(ad, pt)), toHex(seal(key, nonceOf(n), ad, pt)), `n = ${n}`);
    }
    // The high 32 bits and the carry out of the low half.
    for (const n of [0xffffffffn, (1n << 32n) + 5n, 0x0123456789abcdefn, MAX - 1n]) {
      cs.dangerouslySetNonce(n);
      const pt = rnd(3);
      t.equal(toHex(cs.encryptWithAd(ad, pt)), toHex(seal(key, nonceOf(n), ad, pt)), `n = ${n.toString(16)}`);
      t.equal(cs.nonce, n + 1n);
    }
    // Now n = 2^64-1: reserved, for both directions, and it stays that way.
    for (let i = 0; i < 2; i++) t.throws(() => cs.encryptWithAd(ad, rnd(1)), { name: 'CryptoError', code: 'NONCE_EXHAUSTED' });
    t.throws(() => cs.decryptWithAd(ad, rnd(17)), { name: 'CryptoError', code: 'NONCE_EXHAUSTED' });
    t.throws(() => cs.dangerouslySetNonce(MAX + 1n), RangeError);
    t.throws(() => cs.dangerouslySetNonce(-1n), RangeError);
  });

  t.test(`decryptWithAd: a bad tag throws and does not advance n (§5.1) (${be.name})`, async (t) => {
    const key = rnd(32);
    const tx = new CipherState(be, key.slice()), rx = new CipherState(be, key.slice());
    const c0 = tx.encryptWithAd(rnd(0), utf8('zero'));
    const bad = c0.slice();
    bad[0] ^= 1;
    t.throws(() => rx.decryptWithAd(rnd(0), bad), { name: 'CryptoError', code: 'DECRYPT_FAILED' });
    t.equal(rx.nonce, 0n);
    t.same(rx.decryptWithAd(rnd(0), c0), utf8('zero'));
    t.equal(rx.nonce, 1n);
  });

  t.test(`rekey is REKEY(k) of §4.2 and keeps n (${be.name})`, async (t) => {
    const key = rnd(32), ad = rnd(4);
    const expected = seal(key, nonceOf(MAX), new Uint8Array(0), new Uint8Array(32)).subarray(0, 32);
    const cs = new CipherState(be, key.slice());
    cs.encryptWithAd(ad, rnd(5));
    cs.rekey();
    t.equal(cs.nonce, 1n, 'n unchanged by rekey');
    const pt = rnd(9);
    t.equal(toHex(cs.encryptWithAd(ad, pt)), toHex(seal(expected, nonceOf(1n), ad, pt)));
    // Rekey still works at the reserved nonce (it uses 2^64-1 itself, not n).
    cs.dangerouslySetNonce(MAX);
    t.doesNotThrow(() => cs.rekey());
  });

  t.test(`no key passes through; a wiped state refuses everything (${be.name})`, async (t) => {
    const cs = new CipherState(be);
    const pt = rnd(10);
    t.notOk(cs.hasKey());
    t.equal(cs.encryptWithAd(rnd(3), pt), pt);
    t.equal(cs.decryptWithAd(rnd(3), pt), pt);
    t.throws(() => cs.rekey(), { name: 'CryptoError', code: 'BAD_STATE' });
    const keyed = new CipherState(be, rnd(32));
    t.ok(keyed.hasKey());
    keyed.wipe();
    t.throws(() => keyed.encryptWithAd(rnd(0), pt), { name: 'CryptoError', code: 'BAD_STATE' });
    t.throws(() => keyed.decryptWithAd(rnd(0), pt), { name: 'CryptoError', code: 'BAD_STATE' });
    t.throws(() => keyed.rekey(), { name: 'CryptoError', code: 'BAD_STATE' });
    t.throws(() => keyed.initializeKey(rnd(32)), { name: 'CryptoError', code: 'BAD_STATE' });
    t.throws(() => new CipherState(be, rnd(31)), RangeError);
  });

  t.test(`HKDF equals RFC 5869 with empty info (§4.3) (${be.name})`, async (t) => {
    for (const ikmLen of [0, 32, 77]) {
      const ck = rnd(32), ikm = rnd(ikmLen);
      const ref = new Uint8Array(hkdfSync('sha256', ikm, ck, new Uint8Array(0), 96));
      t.equal(toHex(concat(...hkdf(be, ck, ikm, 3))), toHex(ref));
      t.equal(toHex(concat(...hkdf(be, ck, ikm, 2))), toHex(ref.subarray(0, 64)));
    }
  });

  t.test(`SymmetricState follows §5.2 (${be.name})`, async (t) => {
    // A name of exactly HASHLEN bytes is used as h directly; a longer one is hashed.
    const name = utf8('Noise_XK_25519_ChaChaPoly_SHA256');
    t.equal(toHex(new SymmetricState(name, be).h), toHex(name));
    const long = utf8('Noise_XKpsk3_25519_ChaChaPoly_SHA256');
    t.equal(toHex(new SymmetricState(long, be).h), toHex(be.sha256(long)));
    const short = utf8('Noise_N');
    t.equal(toHex(new SymmetricState(short, be).h), toHex(concat(short, new Uint8Array(32 - short.length))));

    // MixHash, MixKey, EncryptAndHash and Split, step by step against the definitions.
    const ss = new SymmetricState(name, be);
    const data = rnd(40), ikm = rnd(32), pt = rnd(12);
    ss.mixHash(data);
    let h = be.sha256(name, data);
    t.equal(toHex(ss.h), toHex(h));
    t.equal(toHex(ss.encryptAndHash(pt)), toHex(pt), 'no key yet: plaintext');
    h = be.sha256(h, pt);
    ss.mixKey(ikm);
    const [ck, k] = hkdf(be, name, ikm, 2);
    const ct = ss.encryptAndHash(pt);
    t.equal(toHex(ct), toHex(seal(k, nonceOf(0n), h, pt)));
    h = be.sha256(h, ct);
    t.equal(toHex(ss.h), toHex(h));
    const [c1, c2] = ss.split();
    const [k1, k2] = hkdf(be, ck, new Uint8Array(0), 2);
    t.equal(toHex(c1.encryptWithAd(rnd(0), pt)), toHex(seal(k1, nonceOf(0n), rnd(0), pt)));
    t.equal(toHex(c2.encryptWithAd(rnd(0), pt)), toHex(seal(k2, nonceOf(0n), rnd(0), pt)));
    t.throws(() => ss.encryptAndHash(pt), { name: 'CryptoError', code: 'BAD_STATE' }, 'wiped by split');
  });
}
