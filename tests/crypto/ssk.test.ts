// SSK blocks: round trips, determinism, the two backends agreeing byte for byte, what a store
// checks without the crypto key, versions, and rejection of every tampered region, wrong key,
// wrong document name and hostile bytes.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nobleBackend } from '../../crypto/backend-noble.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { concat, toHex, utf8 } from '../../crypto/bytes.ts';
import { SSK_BLOCK_LEN, SSK_MAX_PAYLOAD, SSK_SIGNATURE_LABEL, SSK_SIGNED_LEN } from '../../crypto/constants.ts';
import {
  sskDecode,
  sskEncode,
  sskKeypair,
  sskNewer,
  sskPubKeyHash,
  sskRoutingKey,
  sskVerify,
  sskVersion,
  type SskKeypair,
} from '../../crypto/ssk.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BACKENDS = [nodeBackend, nobleBackend];
const BAD = { name: 'CryptoError', code: 'BAD_BLOCK' };
const BAD_SIG = { name: 'CryptoError', code: 'BAD_SIGNATURE' };
const WRONG_VERSION = { name: 'CryptoError', code: 'WRONG_VERSION' };
// [region, from, to, expected code]: the public key and doc tag fail the routing key check; a
// version above 2^53 - 1 (its top 11 bits) fails the range check; the rest fail the signature.
const REGIONS: [string, number, number, (i: number) => string][] = [
  ['public key', 0, 32, () => 'BAD_BLOCK'],
  ['doc tag', 32, 64, () => 'BAD_BLOCK'],
  ['version', 64, 72, (i) => (i === 64 || (i === 65 && (1 << (i % 8)) >= 0x20) ? 'BAD_BLOCK' : 'BAD_SIGNATURE')],
  ['siv', 72, 88, () => 'BAD_SIGNATURE'],
  ['ciphertext', 88, 1114, () => 'BAD_SIGNATURE'],
  ['signature', 1114, 1178, () => 'BAD_SIGNATURE'],
];

function publish(kp: SskKeypair, docName: string, version: number, payload: Uint8Array) {
  return sskEncode({ seed: kp.seed, cryptoKey: kp.cryptoKey, docName, version, payload });
}
/** Re-sign an edited block as its publisher would: valid for a store, bad for a reader. */
function resign(kp: SskKeypair, block: Uint8Array): Uint8Array {
  const out = block.slice();
  const msg = concat(utf8(SSK_SIGNATURE_LABEL + '\0'), out.subarray(0, SSK_SIGNED_LEN));
  out.set(nodeBackend.ed25519.sign(kp.seed, msg), SSK_SIGNED_LEN);
  return out;
}
function codeOf(f: () => unknown): string {
  try {
    f();
    return 'none';
  } catch (e) {
    return (e as Error).name === 'CryptoError' ? (e as { code: string }).code : `${(e as Error).name}`;
  }
}

t.test('round trip on both backends with identical output', async (t) => {
  const kp = sskKeypair();
  for (const n of [0, 1, 100, SSK_MAX_PAYLOAD - 1, SSK_MAX_PAYLOAD]) {
    const payload = rnd(n);
    const input = { seed: kp.seed, cryptoKey: kp.cryptoKey, docName: 'site/index', version: n * 3, payload };
    const a = sskEncode(input, nodeBackend), b = sskEncode(input, nobleBackend);
    t.equal(a.block.length, SSK_BLOCK_LEN);
    t.equal(toHex(a.block), toHex(b.block), `size ${n}: blocks identical`);
    t.equal(toHex(a.routingKey), toHex(b.routingKey));
    t.same(a.routingKey, sskRoutingKey(kp.pubKeyHash, kp.cryptoKey, 'site/index'), 'routing key from the public URI');
    for (const be of BACKENDS) {
      t.same(sskVerify(a.routingKey, a.block, be), { version: n * 3 });
      const d = sskDecode({ routingKey: a.routingKey, cryptoKey: kp.cryptoKey, docName: 'site/index', block: a.block }, be);
      t.same(d, { version: n * 3, payload }, `size ${n} ${be.name}`);
    }
  }
  t.same(sskPubKeyHash(kp.publicKey, nobleBackend), kp.pubKeyHash);
});

t.test('docName as bytes equals its UTF-8 string; versions up to 2^53-1', async (t) => {
  const kp = sskKeypair();
  const s = publish(kp, 'ünïcödé ✓', Number.MAX_SAFE_INTEGER, utf8('hi'));
  const b = sskEncode({ seed: kp.seed, cryptoKey: kp.cryptoKey, docName: utf8('ünïcödé ✓'), version: Number.MAX_SAFE_INTEGER, payload: utf8('hi') });
  t.equal(toHex(s.block), toHex(b.block));
  t.equal(sskVerify(s.routingKey, s.block).version, Number.MAX_SAFE_INTEGER);
});

t.test('misuse is a TypeError or RangeError', async (t) => {
  const kp = sskKeypair();
  const ok = { seed: kp.seed, cryptoKey: kp.cryptoKey, docName: 'd', version: 1, payload: rnd(1) };
  t.throws(() => sskEncode({ ...ok, payload: rnd(SSK_MAX_PAYLOAD + 1) }), RangeError);
  for (const version of [-1, 1.5, 2 ** 53, NaN]) t.throws(() => sskEncode({ ...ok, version }), RangeError, `version ${version}`);
  t.throws(() => sskEncode({ ...ok, seed: rnd(31) }), RangeError);
  t.throws(() => sskEncode({ ...ok, cryptoKey: rnd(16) }), RangeError);
  t.throws(() => sskEncode({ ...ok, docName: 5 as unknown as string }), TypeError);
  t.throws(() => sskEncode({ ...ok, payload: 'x' as unknown as Uint8Array }), TypeError);
});

t.test('deterministic; changing any input changes the block', async (t) => {
  const kp = sskKeypair(), other = sskKeypair();
  const p = rnd(50);
  const base = publish(kp, 'doc', 7, p);
  t.equal(toHex(publish(kp, 'doc', 7, p.slice()).block), toHex(base.block), 'same inputs, same block');
  const variants = [
    publish(kp, 'doc', 8, p),
    publish(kp, 'doc2', 7, p),
    publish(kp, 'doc', 7, p.subarray(1)),
    publish(other, 'doc', 7, p),
    sskEncode({ seed: kp.seed, cryptoKey: other.cryptoKey, docName: 'doc', version: 7, payload: p }),
  ];
  const blocks = new Set([base, ...variants].map((e) => toHex(e.block)));
  t.equal(blocks.size, 6);
  t.equal(toHex(variants[0].routingKey), toHex(base.routingKey), 'a new version keeps the routing key');
  for (const i of [1, 3, 4]) t.not(toHex(variants[i].routingKey), toHex(base.routingKey), `variant ${i}: new routing key`);
  // One version with a different payload gets a different IV: no keystream reuse.
  t.not(toHex(variants[2].block.subarray(72, 88)), toHex(base.block.subarray(72, 88)));
  t.not(toHex(variants[0].block.subarray(72, 88)), toHex(base.block.subarray(72, 88)));
});

t.test('every tampered byte region is rejected by the store check and the reader', async (t) => {
  const kp = sskKeypair();
  const e = publish(kp, 'doc', 3, rnd(200));
  for (const be of BACKENDS) {
    const step = be === nodeBackend ? 1 : 23; // noble's Ed25519 is slow; sample its bytes
    for (const [region, from, to, code] of REGIONS) {
      let hits = 0, total = 0;
      for (let i = from; i < to; i += step) {
        const bad = e.block.slice();
        bad[i] ^= 1 << (i % 8);
        total++;
        if (codeOf(() => sskVerify(e.routingKey, bad, be)) === code(i)) hits++;
        if (codeOf(() => sskDecode({ routingKey: e.routingKey, cryptoKey: kp.cryptoKey, docName: 'doc', block: bad }, be)) === code(i)) hits++;
      }
      t.equal(hits, 2 * total, `${be.name}: ${region}`);
    }
  }
});

t.test('wrong public key, crypto key or document name', async (t) => {
  const kp = sskKeypair(), other = sskKeypair();
  const e = publish(kp, 'doc', 1, rnd(10));
  const forged = publish(other, 'doc', 1, rnd(10));
  for (const be of BACKENDS) {
    t.throws(() => sskVerify(e.routingKey, forged.block, be), { ...BAD, message: /routing key/ }, 'another key cannot publish here');
    const dec = (over: object) => () => sskDecode({ routingKey: e.routingKey, cryptoKey: kp.cryptoKey, docName: 'doc', block: e.block, ...over }, be);
    t.throws(dec({ cryptoKey: other.cryptoKey }), { ...BAD, message: /crypto key or document name/ });
    t.throws(dec({ docName: 'Doc' }), { ...BAD, message: /crypto key or document name/ });
    t.throws(dec({ docName: utf8('doc\0') }), BAD);
    t.throws(dec({ routingKey: forged.routingKey }), BAD);
    t.throws(dec({ routingKey: sskRoutingKey(kp.pubKeyHash, kp.cryptoKey, 'other') }), BAD);
  }
});

t.test('version policy and picking the newest block', async (t) => {
  const kp = sskKeypair();
  const v1 = publish(kp, 'log', 1, utf8('one'));
  const v2 = publish(kp, 'log', 2, utf8('two'));
  const dec = (block: Uint8Array, over: object) =>
    sskDecode({ routingKey: v1.routingKey, cryptoKey: kp.cryptoKey, docName: 'log', block, ...over });
  t.same(dec(v2.block, { version: 2 }).payload, utf8('two'));
  t.throws(() => dec(v1.block, { version: 2 }), { ...WRONG_VERSION, message: /version 1, asked for 2/ });
  t.throws(() => dec(v2.block, { version: 1 }), WRONG_VERSION);
  t.same(dec(v2.block, { minVersion: 2 }).version, 2);
  t.same(dec(v2.block, { minVersion: 0 }).version, 2);
  t.throws(() => dec(v1.block, { minVersion: 2 }), { ...WRONG_VERSION, message: /older than 2/ });
  t.throws(() => dec(v1.block, { version: -1 }), RangeError);
  t.equal(sskNewer(v1.block, v2.block), v2.block);
  t.equal(sskNewer(v2.block, v1.block), v2.block);
  t.equal(sskNewer(v1.block, v1.block.slice()), v1.block, 'identical: the first');
  const fork = publish(kp, 'log', 2, utf8('TWO'));
  const pick = sskNewer(v2.block, fork.block);
  t.equal(sskNewer(fork.block, v2.block), pick, 'a same-version fork resolves the same way in either order');
  t.equal(sskVersion(v2.block), 2);
});

t.test('blocks signed by the publisher but malformed inside are refused by readers', async (t) => {
  const kp = sskKeypair();
  const e = publish(kp, 'doc', 5, rnd(40));
  const dec = (block: Uint8Array) => () => sskDecode({ routingKey: e.routingKey, cryptoKey: kp.cryptoKey, docName: 'doc', block });
  for (const [what, i] of [['siv', 72], ['length field', 88], ['payload', 100], ['padding', 1113]] as const) {
    const bad = e.block.slice();
    bad[i] ^= 1;
    const signed = resign(kp, bad);
    t.same(sskVerify(e.routingKey, signed), { version: 5 }, `${what}: a store accepts it`);
    t.throws(dec(signed), { ...BAD, message: /authenticate/ }, `${what}: the reader does not`);
  }
  const huge = e.block.slice();
  huge.fill(0xff, 64, 72); // version 2^64 - 1, signed
  const hv = resign(kp, huge);
  t.throws(() => sskVerify(e.routingKey, hv), { ...BAD, message: /version out of range/ });
});

t.test('hostile bytes only ever give CryptoError', async (t) => {
  const kp = sskKeypair();
  const e = publish(kp, 'doc', 1, rnd(1));
  const inputs: unknown[] = [new Uint8Array(0), e.block.subarray(1), concat(e.block, new Uint8Array(1)), rnd(SSK_BLOCK_LEN), 'x', null];
  for (let i = 0; i < 20; i++) inputs.push(rnd(SSK_BLOCK_LEN));
  const other = rnd(SSK_BLOCK_LEN);
  other.set(e.block.subarray(0, 64)); // right routing key, garbage after it
  inputs.push(other);
  for (const block of inputs) {
    for (const be of BACKENDS) {
      const c1 = codeOf(() => sskVerify(e.routingKey, block as Uint8Array, be));
      const c2 = codeOf(() => sskDecode({ routingKey: e.routingKey, cryptoKey: kp.cryptoKey, docName: 'doc', block: block as Uint8Array }, be));
      t.ok(['BAD_BLOCK', 'BAD_SIGNATURE'].includes(c1) && ['BAD_BLOCK', 'BAD_SIGNATURE'].includes(c2), `${c1} ${c2}`);
    }
  }
  t.equal(codeOf(() => sskVerify(rnd(31), e.block)), 'BAD_BLOCK');
  t.equal(codeOf(() => sskNewer(e.block, rnd(3))), 'BAD_BLOCK');
});
