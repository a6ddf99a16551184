// crypto/bytes.ts: putU64be writes what DataView.setBigUint64 writes, for the edges of each byte
// width up to 2^53 - 1, and refuses what is not a non-negative safe integer.
import t from 'tap';
import { putU64be } from '../../crypto/bytes.ts';

t.test('putU64be matches setBigUint64', async (t) => {
  for (const n of [0, 1, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    const want = new Uint8Array(10);
    new DataView(want.buffer).setBigUint64(1, BigInt(n), false);
    const got = new Uint8Array(10);
    putU64be(got, 1, n);
    t.same(got, want, `${n}`);
  }
  for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) t.throws(() => putU64be(new Uint8Array(8), 0, bad), RangeError);
});
