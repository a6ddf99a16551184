// URIs: round trips of every kind; every truncation and every single-character typo of the key
// refused with BAD_URI; bad kinds, document names and versions refused with a message.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { base32Decode, base32Encode } from '../../store/base32.ts';
import { formatUri, parseUri, parseChkUri, type ContentUri } from '../../store/uri.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const BAD = { name: 'StoreError', code: 'BAD_URI' };
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

t.test('base32 round trip and strictness', async (t) => {
  for (let n = 0; n < 40; n++) {
    const b = rnd(n);
    t.same(base32Decode(base32Encode(b)), b);
  }
  t.equal(base32Decode('A'), null, 'uppercase refused');
  t.equal(base32Decode('ab'), null, 'nonzero unused bits refused'); // 'b' sets a trailing bit
  t.equal(base32Decode('a'), null, 'a lone character is not a byte');
});

const samples: ContentUri[] = [
  { kind: 'CHK', routingKey: rnd(32), cryptoKey: rnd(32) },
  { kind: 'SSK', pubKeyHash: rnd(32), cryptoKey: rnd(32), docName: 'my-site_v1.0~x' },
  { kind: 'SSK-INSERT', seed: rnd(32), cryptoKey: rnd(32), docName: 'blog' },
];

t.test('round trip, printable and copy-paste safe', async (t) => {
  for (const u of samples) {
    const s = formatUri(u);
    t.match(s, /^umbra:(CHK|SSK|SSK-INSERT)@[a-z2-7]+(\/[A-Za-z0-9._~-]+)?$/);
    t.same(parseUri(s), u);
    t.same(parseUri(`  ${s}\n`), u, 'surrounding whitespace from a paste is ignored');
  }
  t.same(parseChkUri(formatUri(samples[0])), samples[0]);
  t.throws(() => parseChkUri(formatUri(samples[1])), BAD);
});

t.test('every truncation is refused', async (t) => {
  for (const u of samples) {
    const s = formatUri(u);
    for (let n = 0; n < s.length; n++) t.throws(() => parseUri(s.slice(0, n)), BAD, `${u.kind} cut to ${n}`);
  }
});

t.test('every single-character substitution in the key or name is refused', async (t) => {
  let tried = 0;
  for (const u of samples) {
    const s = formatUri(u);
    const start = s.indexOf('@') + 1;
    for (let i = 0; i < s.length; i++) {
      const pool = i >= start && s[i] !== '/' ? ALPHABET + (i > s.indexOf('/', start) && s.includes('/', start) ? 'AZ09._~-' : '') : 'x';
      for (const c of pool) {
        if (c === s[i]) continue;
        const typo = s.slice(0, i) + c + s.slice(i + 1);
        tried++;
        t.throws(() => parseUri(typo), BAD);
      }
    }
  }
  t.ok(tried > 9000);
});

t.test('messages say what is wrong', async (t) => {
  const chk = formatUri(samples[0]);
  t.throws(() => parseUri('http://example.com'), { code: 'BAD_URI', message: /not an Umbra URI/ });
  t.throws(() => parseUri(chk.replace('CHK@', 'KSK@')), { code: 'BAD_URI', message: /unknown URI kind/ });
  t.throws(() => parseUri(chk.slice(0, -3)), { code: 'BAD_URI', message: /expected 111/ });
  t.throws(() => parseUri(chk + '/name'), { code: 'BAD_URI', message: /no document name/ });
  const ssk = formatUri(samples[1]);
  t.throws(() => parseUri(ssk.replace(/\/.*$/, '/a b')), { code: 'BAD_URI', message: /document name/ });
  t.throws(() => parseUri(ssk.replace(/\/.*$/, '/')), { code: 'BAD_URI', message: /empty/ });
  t.throws(() => parseUri(ssk.replace(/\/.*$/, '/other')), { code: 'BAD_URI', message: /checksum/ });
  t.throws(() => parseUri('umbra:CHK@' + 'a'.repeat(600)), { code: 'BAD_URI', message: /longer than/ });
  t.throws(() => formatUri({ kind: 'SSK', pubKeyHash: rnd(32), cryptoKey: rnd(32), docName: 'a/b' }), RangeError);
});
