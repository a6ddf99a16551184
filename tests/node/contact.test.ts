// Contact strings: round trip, and every kind of damage a copy-paste can do is caught.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { base32Decode, base32Encode, formatContact, parseContact } from '../../node/contact.ts';

t.test('base32 round-trips every length and rejects non-canonical text', async (t) => {
  for (let n = 0; n < 40; n++) {
    const b = new Uint8Array(randomBytes(n));
    t.same(base32Decode(base32Encode(b)), b);
  }
  t.equal(base32Decode('A'), null, 'uppercase refused');
  t.equal(base32Decode('ab'), null, 'non-zero trailing bits refused');
  t.equal(base32Decode('a1'), null, 'outside the alphabet');
});

t.test('contacts round-trip for IPv4, IPv6 and names', async (t) => {
  for (const host of ['127.0.0.1', '::1', 'node.example']) {
    const c = { identityKey: new Uint8Array(randomBytes(32)), host, port: 7700 };
    const s = formatContact(c);
    t.match(s, /^umbra:[a-z2-7]{58}@/);
    t.same(parseContact(s), c);
    t.same(parseContact(`  ${s}\n`), c, 'surrounding whitespace (a file) is fine');
  }
});

t.test('damaged contacts are rejected with BAD_CONTACT', async (t) => {
  const s = formatContact({ identityKey: new Uint8Array(randomBytes(32)), host: '127.0.0.1', port: 7700 });
  const keyStart = 'umbra:'.length;
  const bad = [
    s.slice(0, -1) + (s.endsWith('0') ? '1' : '0') + '0000', // port out of range
    s.replace('umbra:', 'umbre:'),
    s.slice(0, keyStart + 10) + s.slice(keyStart + 11), // a character lost
    s.slice(0, keyStart + 5) + (s[keyStart + 5] === 'a' ? 'b' : 'a') + s.slice(keyStart + 6), // a typo
    s.split('@')[0] as string,
    s.toUpperCase(),
    s.replace('127.0.0.1', '127.0.0.1 '),
    'x'.repeat(1000),
  ];
  for (const b of bad) t.throws(() => parseContact(b), { name: 'ContactError', code: 'BAD_CONTACT' }, JSON.stringify(b.slice(0, 80)));
});
