// The wire codec (routing/wire): the CBOR profile against RFC 8949's examples, every rejection class
// with its code, the hostile inputs (oversize, depth bombs, huge length heads), integer edges, and
// the schema combinators' round trips and refusals.
import { readFileSync } from 'node:fs';
import { Encoder } from 'cbor-x';
import t from 'tap';
import { WIRE_MAX_DEPTH, WIRE_MAX_MESSAGE } from '../../routing/constants.ts';
import { decodeCbor, encodeCbor, type CborValue } from '../../routing/wire/cbor.ts';
import { WireError, type WireErrorCode } from '../../routing/wire/errors.ts';
import { array, bool, bytes, codec, enumOf, int, optional, struct, text, tuple, uint } from '../../routing/wire/schema.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const code = (c: WireErrorCode) => ({ name: 'WireError', code: c });

const Addr = struct({ host: [0, text({ max: 16 })], port: [1, uint({ min: 1, max: 65535 })] });
const Descriptor = codec(
  'Descriptor',
  struct(
    {
      version: [0, uint({ max: 255 })],
      id: [1, bytes({ len: 4 })],
      addrs: [2, array(Addr, { min: 1, max: 3 })],
      kind: [3, enumOf({ relay: 1, store: 2 })],
      nick: [4, text({ max: 8 })],
      extra: [5, tuple(bool(), int({ min: -5, max: 5 }), optional(bytes({ min: 1, max: 2 })))],
    },
    { optional: ['nick', 'extra'] },
  ),
);
const desc = { version: 1, id: fill(4, 7), addrs: [{ host: 'a.example', port: 443 }], kind: 'store' as const };

t.test('RFC 8949 Appendix A: the profile accepts the canonical examples and names what it refuses', async (t) => {
  const v = JSON.parse(readFileSync(new URL('../vectors/cbor_rfc8949_appendix_a.json', import.meta.url), 'utf8'));
  t.match(v.source, /RFC 8949/);
  const toCbor = (j: unknown): unknown =>
    Array.isArray(j) ? j.map(toCbor) : j !== null && typeof j === 'object' ? new Map(Object.entries(j).map(([k, x]) => [k, toCbor(x)])) : j;
  for (const e of v.accepted) {
    const value = decodeCbor(unhex(e.hex));
    if ('decoded' in e) t.same(value, toCbor(e.decoded), e.hex);
    t.equal(hex(encodeCbor(value)), e.hex, `${e.hex} re-encodes to itself`);
  }
  t.same(decodeCbor(unhex('4401020304')), Uint8Array.of(1, 2, 3, 4));
  t.same(decodeCbor(unhex('a201020304')), new Map([[1, 2], [3, 4]]));
  for (const e of v.rejected) t.throws(() => decodeCbor(unhex(e.hex)), code(e.umbra), `${e.diagnostic} (${e.hex})`);
  t.ok(v.accepted.length + v.rejected.length >= 80);
});

t.test('integers: shortest heads both ways, the safe range and nothing beyond', async (t) => {
  const cases: [number, string][] = [
    [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
    [2 ** 32 - 1, '1affffffff'], [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [-1, '20'], [-24, '37'], [-25, '3818'], [-256, '38ff'], [-257, '390100'], [-65536, '39ffff'], [-65537, '3a00010000'],
    [-(2 ** 32), '3affffffff'], [-(2 ** 32) - 1, '3b0000000100000000'], [Number.MIN_SAFE_INTEGER, '3b001ffffffffffffe'],
  ];
  for (const [n, h] of cases) {
    t.equal(hex(encodeCbor(n)), h, `${n} encodes as ${h}`);
    t.equal(decodeCbor(unhex(h)), n, `${h} decodes to ${n}`);
  }
  t.equal(hex(encodeCbor(-0)), '00');
  t.throws(() => decodeCbor(unhex('1b0020000000000000')), code('OUT_OF_RANGE'), '2^53');
  t.throws(() => decodeCbor(unhex('3b001fffffffffffff')), code('OUT_OF_RANGE'), '-(2^53)');
  t.throws(() => decodeCbor(unhex('1b8000000000000000')), code('OUT_OF_RANGE'), '2^63');
  for (const h of ['1817', '190017', '1900ff', '1a0000ffff', '1b00000000ffffffff', '3817', '3900ff', '5800', '7800', '9800', 'b800', '5a00000001ff']) {
    t.throws(() => decodeCbor(unhex(h)), code('NOT_CANONICAL'), `${h} has a longer head than needed`);
  }
  t.throws(() => encodeCbor(2 ** 53), code('OUT_OF_RANGE'));
  t.throws(() => encodeCbor(1.5), code('BAD_TYPE'));
  t.throws(() => encodeCbor(NaN), code('BAD_TYPE'));
  // the uint schema refuses what is not a safe non-negative integer within its bounds
  const U = codec('U', uint({ max: 1000 }));
  t.equal(U.decode(unhex('1903e8')), 1000);
  t.throws(() => U.decode(unhex('1903e9')), code('OUT_OF_RANGE'));
  t.throws(() => U.decode(unhex('20')), code('OUT_OF_RANGE'), 'negative');
  t.throws(() => U.decode(unhex('f93c00')), code('UNSUPPORTED'), 'a float 1.0 is not an integer');
  t.throws(() => U.encode(2 ** 60), code('OUT_OF_RANGE'));
  t.throws(() => U.encode(2.5), code('BAD_TYPE'));
  t.throws(() => codec('U64', uint()).decode(unhex('1bffffffffffffffff')), code('OUT_OF_RANGE'), 'u64 max, beyond 2^53');
  t.throws(() => U.encode(BigInt(5) as unknown as number), code('BAD_TYPE'));
});

t.test('map keys: integers or text, in canonical order, never twice', async (t) => {
  const m = new Map<number | string, CborValue>([['b', 1], [-1, 2], [24, 3], [1, 4], ['aa', 5], [2 ** 40, 6], ['é', 7]]);
  // 1, 24, 2^40, -1, then text shortest first ("b" before "aa"), then bytewise ("aa" 6161 < "é" c3a9)
  t.equal(hex(encodeCbor(m)), 'a7' + '0104' + '181803' + '1b000001000000000006' + '2002' + '616201' + '62616105' + '62c3a907');
  t.same(decodeCbor(encodeCbor(m)), m);
  t.throws(() => decodeCbor(unhex('a202000100')), code('NOT_CANONICAL'), 'integer keys out of order');
  t.throws(() => decodeCbor(unhex('a2626161006162' + '00')), code('NOT_CANONICAL'), '"aa" before "b"');
  t.throws(() => decodeCbor(unhex('a220000000')), code('NOT_CANONICAL'), 'negative before positive');
  t.throws(() => decodeCbor(unhex('a201000100')), code('DUPLICATE_KEY'));
  t.throws(() => decodeCbor(unhex('a30100616100616100')), code('DUPLICATE_KEY'), 'text key repeated');
  t.throws(() => decodeCbor(unhex('a14000')), code('UNSUPPORTED'), 'byte-string key');
  t.throws(() => decodeCbor(unhex('a18000')), code('UNSUPPORTED'), 'array key');
  t.throws(() => decodeCbor(unhex('a1f600')), code('UNSUPPORTED'), 'null key');
  t.throws(() => encodeCbor(new Map([[true as unknown as number, 1]])), code('BAD_TYPE'));
});

t.test('text: valid UTF-8 only, both ways', async (t) => {
  t.equal(decodeCbor(unhex('64f0908591')), '\u{10151}');
  for (const h of ['61ff', '6180', '62c080', '63eda080', '64f4908080', '61c3', '62e6b0']) {
    t.throws(() => decodeCbor(unhex(h)), code('BAD_CBOR'), `${h} is not UTF-8`);
  }
  t.throws(() => encodeCbor('a\ud800b'), code('BAD_TYPE'), 'lone surrogate');
  t.throws(() => encodeCbor('x'.repeat(70) + '\udc00'), code('BAD_TYPE'), 'lone surrogate in a long string');
  const long = 'ü水😀'.repeat(40);
  t.equal(decodeCbor(encodeCbor(long)), long);
});

t.test('framing: truncation, trailing bytes, oversize, bad bytes', async (t) => {
  const good = Descriptor.encode(desc);
  for (let n = 0; n < good.length; n++) t.throws(() => Descriptor.decode(good.subarray(0, n)), code('TRUNCATED'), `prefix of ${n}`);
  t.throws(() => Descriptor.decode(Uint8Array.of(...good, 0)), code('TRAILING_BYTES'));
  t.throws(() => Descriptor.decode(Uint8Array.of(...good, ...good)), code('TRAILING_BYTES'), 'two messages');
  t.throws(() => decodeCbor(new Uint8Array(WIRE_MAX_MESSAGE + 1)), code('TOO_LARGE'));
  const big = encodeCbor(fill(WIRE_MAX_MESSAGE, 1), { maxSize: 2 * WIRE_MAX_MESSAGE });
  t.throws(() => decodeCbor(big), code('TOO_LARGE'), 'checked before parsing');
  t.equal((decodeCbor(big, { maxSize: big.length }) as Uint8Array).length, WIRE_MAX_MESSAGE, 'a caller may raise the limit');
  t.throws(() => decodeCbor(Uint8Array.of(0x82, 0x01, 0x02, 0x03)), code('TRAILING_BYTES'));
  t.throws(() => codec('B', bytes({ max: 100_000 })).encode(new Uint8Array(WIRE_MAX_MESSAGE)), code('TOO_LARGE'), 'encoder keeps the limit');
  t.throws(() => codec('B', bytes({ max: 100 }), { maxSize: 10 }).decode(encodeCbor(fill(20, 1))), code('TOO_LARGE'));
  // huge length heads fail as truncation before anything is allocated
  for (const h of ['5bffffffffffffffff', '7b0000000100000000', '9b00000000ffffffff', '9affffffff', 'ba7fffffff', '5a00010000', '9a0000ffff01']) {
    t.throws(() => decodeCbor(unhex(h)), { name: 'WireError' }, h);
  }
  t.throws(() => decodeCbor(unhex('9affffffff')), code('TRUNCATED'));
  for (const h of ['1c', '3d', '5e', 'fc', 'fe', 'ff', '1f', '3f']) t.throws(() => decodeCbor(unhex(h)), code('BAD_CBOR'), h);
  t.throws(() => decodeCbor(unhex('c0')), code('UNSUPPORTED'), 'tag');
  t.throws(() => decodeCbor(unhex('df')), code('UNSUPPORTED'), 'any tag head, even a malformed one');
  t.throws(() => decodeCbor(unhex('d9dfff8300a06161')), code('UNSUPPORTED'), "cbor-x's record tag");
  t.throws(() => decodeCbor(unhex('d81b8366526567457870626161')), code('UNSUPPORTED'), "cbor-x's tag 27 (RegExp constructor)");
  t.throws(() => decodeCbor('00' as unknown as Uint8Array), TypeError, 'misuse: not bytes');
});

t.test('depth bombs give TOO_DEEP, never a stack overflow', async (t) => {
  t.throws(() => decodeCbor(new Uint8Array(60_000).fill(0x81)), code('TOO_DEEP'));
  t.throws(() => decodeCbor(new Uint8Array(100_000).fill(0x81), { maxSize: 1 << 20 }), code('TOO_DEEP'), '100,000 x 0x81');
  t.throws(() => Descriptor.decode(new Uint8Array(60_000).fill(0x81)), code('TOO_DEEP'));
  const maps = new Uint8Array(40_000);
  for (let i = 0; i < maps.length; i += 2) maps.set([0xa1, 0x00], i);
  t.throws(() => decodeCbor(maps), code('TOO_DEEP'), 'nested maps');
  const nest = (n: number) => Uint8Array.of(...new Uint8Array(n).fill(0x81), 0x00);
  t.same(decodeCbor(nest(WIRE_MAX_DEPTH)), JSON.parse('['.repeat(WIRE_MAX_DEPTH) + '0' + ']'.repeat(WIRE_MAX_DEPTH)));
  t.throws(() => decodeCbor(nest(WIRE_MAX_DEPTH + 1)), code('TOO_DEEP'));
  t.throws(() => decodeCbor(Uint8Array.of(...new Uint8Array(WIRE_MAX_DEPTH).fill(0x81), 0x80)), code('TOO_DEEP'), 'an empty array counts');
  t.ok(Array.isArray(decodeCbor(nest(100), { maxDepth: 100 })), 'a caller may allow more depth');
  const cyclic: CborValue[] = [];
  cyclic.push(cyclic);
  t.throws(() => encodeCbor(cyclic), code('TOO_DEEP'), 'a cyclic value on encode');
  t.throws(() => decodeCbor(nest(3), { maxDepth: 100_000 }), RangeError, 'misuse: a depth limit beyond the ceiling');
});

t.test('byte strings are copies; the input is left as it was', async (t) => {
  const input = Descriptor.encode({ ...desc, id: Uint8Array.of(1, 2, 3, 4) });
  const value = Descriptor.decode(input);
  input.fill(0xee);
  t.same(value.id, Uint8Array.of(1, 2, 3, 4));
  t.equal(value.id.constructor, Uint8Array);
  const buf = Buffer.from(encodeCbor(fill(40, 5)));
  const b = decodeCbor(buf) as Uint8Array;
  t.equal(b.constructor, Uint8Array, 'a plain Uint8Array even from a Buffer');
  t.not(b.buffer, buf.buffer);
  t.same(Object.keys(buf).length, buf.length, 'cbor-x left no property on the input');
  // a message inside a larger buffer (as a frame parser hands it over): offsets are the view's own
  const msg = encodeCbor(['ünïcode text longer than sixty-four bytes, to take the other string path ✓', 'ab', fill(3, 2)]);
  const frame = new Uint8Array(msg.length + 10).fill(0x7f);
  frame.set(msg, 5);
  t.same(decodeCbor(frame.subarray(5, 5 + msg.length)), decodeCbor(msg));
  t.throws(() => decodeCbor(frame.subarray(5, 6 + msg.length)), code('TRAILING_BYTES'));
  const out = encodeCbor([fill(3, 1)]);
  t.equal(out.constructor, Uint8Array);
  t.equal(out.buffer.byteLength, out.length, 'encoder output owns its buffer');
});

t.test('views on request; a head byte before the item', async (t) => {
  const msg = encodeCbor([fill(300, 9), 'x', 7], undefined, 0x2a);
  t.equal(msg[0], 0x2a, 'the head byte comes first');
  t.same(encodeCbor([fill(300, 9), 'x', 7]), msg.subarray(1), 'then the item, as without it');
  const body = msg.subarray(1);
  const copied = decodeCbor(body) as [Uint8Array];
  const viewed = decodeCbor(body, undefined, { views: true }) as [Uint8Array];
  t.same(viewed, copied);
  t.not(copied[0].buffer, msg.buffer, 'by default a copy');
  t.equal(viewed[0].buffer, msg.buffer, 'with views: a view into the handed-over buffer');
  t.throws(() => encodeCbor(1, undefined, 256), RangeError);
});

t.test('the encoder writes what cbor-x writes for every profile value (differential, seeded)', async (t) => {
  const ref = new Encoder({ useRecords: false, mapsAsObjects: false, useTag259ForMaps: false, tagUint8Array: false, variableMapSize: true } as never);
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const ints = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const gen = (depth: number): CborValue => {
    switch (rand(depth > 3 ? 5 : 8)) {
      case 0: { const v = ints[rand(ints.length)]; return rand(2) ? v : -v - (v === Number.MAX_SAFE_INTEGER ? 0 : 1); }
      case 1: return fill(rand(3) ? rand(30) : rand(70000), rand(256));
      case 2: return ['', 'a', 'ünï', 'x'.repeat(rand(300)), '✓😀'][rand(5)];
      case 3: return [null, true, false][rand(3)];
      case 4: return rand(1000);
      case 5: return Array.from({ length: rand(5) }, () => gen(depth + 1));
      default: {
        const m = new Map<number | string, CborValue>();
        for (let i = rand(6); i > 0; i--) m.set(rand(2) ? rand(300) - 150 : ['a', 'bb', 'b', 'aa', 'ü'][rand(5)], gen(depth + 1));
        return m;
      }
    }
  };
  // cbor-x writes integers of 2^32 and beyond only as BigInt, and maps in insertion order: give it both prepared
  const forRef = (v: CborValue): unknown => {
    if (typeof v === 'number') return v >= 2 ** 32 || v < -(2 ** 32) ? BigInt(v) : v;
    if (Array.isArray(v)) return v.map(forRef);
    if (v instanceof Map) {
      const keyBytes = (k: number | string) => encodeCbor(k);
      const entries = [...v].sort(([a], [b]) => Buffer.compare(keyBytes(a), keyBytes(b)));
      return new Map(entries.map(([k, x]) => [forRef(k), forRef(x)]));
    }
    return v;
  };
  for (let i = 0; i < 300; i++) {
    const v = gen(0);
    const ours = encodeCbor(v, { maxSize: 2 ** 24 });
    t.equal(hex(ours), hex(ref.encode(forRef(v))), `value ${i}`);
    t.same(decodeCbor(ours, { maxSize: 2 ** 24 }), v, `value ${i} decodes back`);
  }
});

t.test('schema round trips', async (t) => {
  const full = { ...desc, nick: 'bob', extra: [true, -5, fill(2, 9)] as [boolean, number, Uint8Array | null], addrs: [desc.addrs[0], { host: '', port: 1 }] };
  t.same(Descriptor.decode(Descriptor.encode(desc)), desc);
  t.same(Descriptor.decode(Descriptor.encode(full)), full);
  t.same(Descriptor.decode(Descriptor.encode({ ...full, extra: [false, 0, null] })).extra, [false, 0, null]);
  // fields go out under their labels, in label order: {0: 1, 1: h'07070707', 2: [{0: "a", 1: 443}], 3: 2}
  t.equal(hex(Descriptor.encode(desc)), 'a4' + '0001' + '01' + '4407070707' + '02' + '81a2' + '0069612e6578616d706c65' + '011901bb' + '0302');
  t.equal(hex(Descriptor.encode({ ...desc, nick: undefined })), hex(Descriptor.encode(desc)), 'undefined optional is absent');
  t.same(Descriptor.schema.check(desc), desc);
  const E = codec('E', enumOf({ a: 0, b: 7 }));
  t.equal(hex(E.encode('b')), '07');
  t.equal(E.decode(unhex('00')), 'a');
  const L = codec('L', array(text({ max: 3 }), { max: 4 }));
  t.same(L.decode(L.encode(['', 'ü', 'abc'])), ['', 'ü', 'abc']);
});

t.test('schema refusals carry their code and the field path', async (t) => {
  const wire = (m: Map<number, CborValue>) => encodeCbor(m);
  const base = () => Descriptor.schema.toCbor(desc) as Map<number, CborValue>;
  const bad = (edit: (m: Map<number, CborValue>) => void, c: WireErrorCode, path: string, why: string) => {
    const m = base();
    edit(m);
    const err = (() => {
      try {
        Descriptor.decode(wire(m));
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof WireError, why);
    t.match(err, { code: c, path }, why);
  };
  bad((m) => m.set(0, 'x'), 'BAD_TYPE', 'version', 'text for an integer');
  bad((m) => m.set(0, 256), 'OUT_OF_RANGE', 'version', 'over max');
  bad((m) => m.set(1, fill(5, 0)), 'BAD_LENGTH', 'id', 'wrong byte length');
  bad((m) => m.set(1, 'abcd'), 'BAD_TYPE', 'id', 'text for bytes');
  bad((m) => m.set(2, []), 'BAD_LENGTH', 'addrs', 'under array min');
  bad((m) => m.set(2, [...(m.get(2) as CborValue[]), ...(m.get(2) as CborValue[]), ...(m.get(2) as CborValue[]), ...(m.get(2) as CborValue[])]), 'BAD_LENGTH', 'addrs', 'over array max');
  bad((m) => m.set(2, [new Map<number, CborValue>([[0, 'h'], [1, 0]])]), 'OUT_OF_RANGE', 'addrs[0].port', 'port 0');
  bad((m) => m.set(2, [new Map<number, CborValue>([[0, 'h'.repeat(17)], [1, 1]])]), 'BAD_LENGTH', 'addrs[0].host', 'long text');
  bad((m) => m.set(2, [new Map<number, CborValue>([[0, 'h']])]), 'MISSING_FIELD', 'addrs[0].port', 'nested missing');
  bad((m) => m.set(3, 3), 'BAD_ENUM', 'kind', 'unknown code');
  bad((m) => m.set(3, 'store'), 'BAD_TYPE', 'kind', 'an enum name on the wire');
  bad((m) => m.delete(1), 'MISSING_FIELD', 'id', 'missing');
  bad((m) => m.set(9, 0), 'UNKNOWN_FIELD', '', 'unknown label');
  bad((m) => m.set(4, null), 'BAD_TYPE', 'nick', 'null for an optional field (absent is the way)');
  bad((m) => m.set(5, [true, 1]), 'BAD_LENGTH', 'extra', 'short tuple');
  bad((m) => m.set(5, [true, 9, null]), 'OUT_OF_RANGE', 'extra[1]', 'tuple item');
  t.throws(() => Descriptor.decode(encodeCbor(new Map<string, CborValue>([['version', 1]]))), code('UNKNOWN_FIELD'), 'text label');
  t.throws(() => Descriptor.decode(encodeCbor([1, 2])), code('BAD_TYPE'), 'array for a struct');
  t.throws(() => Descriptor.decode(encodeCbor(new Map())), code('MISSING_FIELD'));
  // and on the way out
  const enc = (v: unknown) => () => Descriptor.encode(v as typeof desc);
  t.throws(enc({ ...desc, surprise: 1 }), code('UNKNOWN_FIELD'));
  t.throws(enc({ ...desc, kind: 'exit' }), code('BAD_ENUM'));
  t.throws(enc({ ...desc, id: [1, 2, 3, 4] }), code('BAD_TYPE'));
  t.throws(enc({ ...desc, addrs: [{ host: 'h', port: 70000 }] }), { code: 'OUT_OF_RANGE', path: 'addrs[0].port' });
  t.throws(enc(new Map()), code('BAD_TYPE'));
  t.throws(enc(null), code('BAD_TYPE'));
  t.throws(() => Descriptor.schema.check({ ...desc, version: -1 }), code('OUT_OF_RANGE'));
  const T = codec('T', struct({ toString: [0, uint()] }));
  t.throws(() => T.encode({} as { toString: number }), code('MISSING_FIELD'), 'an inherited property is not a field');
  t.throws(() => T.decode(encodeCbor(new Map())), code('MISSING_FIELD'));
});

t.test('schema misuse is a RangeError at construction', async (t) => {
  t.throws(() => struct({ a: [1, uint()], b: [1, uint()] }), RangeError, 'shared label');
  t.throws(() => struct({ a: [-1, uint()] }), RangeError);
  t.throws(() => struct({ a: [1, uint()] }, { optional: ['b' as 'a'] }), RangeError);
  t.throws(() => uint({ max: 2 ** 60 }), RangeError);
  t.throws(() => bytes({ min: 5, max: 4 }), RangeError);
  t.throws(() => enumOf({ a: 1, b: 1 }), RangeError);
});
