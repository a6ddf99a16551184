// SSK content: publish versions under an insert URI, fetch the newest valid candidate; forged,
// foreign and corrupt candidates are skipped; no valid candidate is NOT_FOUND.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { utf8 } from '../../crypto/bytes.ts';
import { fetchSsk, sskNewUris, sskPickNewest, sskPublicUri, sskPublish, sskRoutingKeyOf } from '../../store/ssk-content.ts';
import { parseUri } from '../../store/uri.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));

t.test('newest version wins, invalid candidates are skipped', async (t) => {
  const { insertUri, uri } = sskNewUris('site', rnd);
  t.equal(sskPublicUri(insertUri), uri);
  t.equal(parseUri(uri).kind, 'SSK');
  const v = [0, 1, 2].map((n) => sskPublish(insertUri, n, utf8(`version ${n}`)));
  const rk = sskRoutingKeyOf(uri);
  for (const b of v) t.same(b.routingKey, rk, 'one routing key for every version');
  const other = sskNewUris('site', rnd);
  const foreign = sskPublish(other.insertUri, 9, utf8('not ours')).block;
  const corrupt = v[2].block.slice();
  corrupt[200] ^= 1;
  const newest = sskPickNewest(uri, [v[0].block, null, foreign, v[2].block, v[1].block, new Uint8Array(5)]);
  t.equal(newest?.version, 2);
  t.same(newest?.payload, utf8('version 2'));
  t.equal(sskPickNewest(uri, [v[1].block, corrupt])?.version, 1, 'a corrupt newer block does not win');
  t.equal(sskPickNewest(uri, [v[0].block], 1), null, 'minVersion');
  const r = await fetchSsk(uri, { getBlocks: async () => [v[1].block, v[2].block] });
  t.equal(r.version, 2);
  await t.rejects(fetchSsk(uri, { getBlocks: async () => [foreign] }), { name: 'StoreError', code: 'NOT_FOUND' });
  t.throws(() => sskPublish(insertUri, 3, new Uint8Array(1025)), { code: 'TOO_LARGE' });
  t.throws(() => sskPublish(uri as string, 3, new Uint8Array(1)), { code: 'BAD_URI' }, 'a public URI cannot publish');
});
