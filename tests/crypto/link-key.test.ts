// The link static key derived from an identity: both ends derive the same X25519 key, a DH with it
// matches, and a hostile identity key gives a typed error.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { linkKeyFromIdentity, linkPublicFromIdentity } from '../../crypto/link-key.ts';

t.test('derived keys agree between the key holder and a dialer', async (t) => {
  for (let i = 0; i < 20; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const mine = linkKeyFromIdentity(seed);
    const theirs = linkPublicFromIdentity(nodeBackend.ed25519.publicKey(seed));
    t.same(theirs, mine.publicKey);
    t.same(nodeBackend.x25519.publicKey(mine.secret), mine.publicKey, 'secret and public are a pair');
    const other = nodeBackend.x25519.generate();
    t.same(nodeBackend.x25519.dh(mine.secret, other.publicKey), nodeBackend.x25519.dh(other.secret, theirs));
  }
});

t.test('hostile identity keys are rejected with BAD_KEY', async (t) => {
  t.throws(() => linkPublicFromIdentity(new Uint8Array(31)), { name: 'CryptoError', code: 'BAD_KEY' });
  // y = 2 is not on the curve (no x solves the equation)
  const notOnCurve = new Uint8Array(32);
  notOnCurve[0] = 2;
  t.throws(() => linkPublicFromIdentity(notOnCurve), { name: 'CryptoError', code: 'BAD_KEY' });
  // the identity point (y = 1) maps to u = 0
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  t.throws(() => linkPublicFromIdentity(identityPoint), { name: 'CryptoError', code: 'BAD_KEY' });
});
