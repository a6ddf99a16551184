// The flat-struct shortcut (routing/wire/flat.ts) against the generic codec path it stands in for
// (schema.ts over cbor.ts, the authority): the same bytes out for every value both take, the same
// value (and the same kind of byte arrays: views or copies) for every input it accepts, and never an
// acceptance where the generic path throws, over valid, mutated and random inputs, for a struct of
// every leaf kind and for every flat routing message. The comparison is first shown to catch a
// shortcut that is subtly wrong.
import t from 'tap';
import { Prng } from '../../tools/fuzz/harness.ts';
import { WIRE_MAX_MESSAGE } from '../../routing/constants.ts';
import { bodyCodec, decodeMessage, encodeMessage, MESSAGE_TYPES, type MessageType } from '../../routing/messages.ts';
import { decodeCbor, encodeCbor } from '../../routing/wire/cbor.ts';
import { flatCodec, type FlatCodec } from '../../routing/wire/flat.ts';
import { bool, bytes, codec, enumOf, int, struct, text, uint, type Codec } from '../../routing/wire/schema.ts';

const MUTATIONS = 4000; // per sample input

function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x instanceof Uint8Array ? `${x.constructor.name}:${Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex')}` : x,
  );
}

interface Paths {
  fast: FlatCodec;
  encode(v: unknown, head?: number): Uint8Array; // generic; throws
  decode(b: Uint8Array, views: boolean): unknown; // generic; throws
}
function paths(c: Codec<unknown>): Paths {
  const fast = flatCodec(c.schema.fields ?? [], WIRE_MAX_MESSAGE);
  if (fast === undefined) throw new Error(`${c.name} is not flat`);
  return {
    fast,
    encode: (v, head) => encodeCbor(c.schema.toCbor(v), undefined, head),
    decode: (b, views) => c.schema.fromCbor(decodeCbor(b, undefined, { views })),
  };
}

/** A disagreement between the shortcut and the generic path on one input, or null. */
function decodeDisagreement(p: Pick<Paths, 'decode'> & { fast: Pick<FlatCodec, 'decode'> }, input: Uint8Array, views: boolean): string | null {
  let generic: unknown, threw = false;
  try {
    generic = p.decode(input, views);
  } catch {
    threw = true;
  }
  const fast = p.fast.decode(input, views);
  if (fast === undefined) return null; // left to the generic path: always right
  if (threw) return 'the shortcut accepts what the generic path refuses';
  if (canon(fast) !== canon(generic)) return `values differ: ${canon(fast).slice(0, 200)} vs ${canon(generic).slice(0, 200)}`;
  return null;
}

function mutate(rng: Prng, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const edits = 1 + rng.below(3);
  for (let e = 0; e < edits; e++) {
    const at = rng.below(out.length + 1);
    switch (rng.below(6)) {
      case 0:
        out[Math.min(at, out.length - 1)] = rng.below(256);
        break;
      case 1:
        out.splice(at, 0, rng.below(256));
        break;
      case 2:
        out.splice(at, 1);
        break;
      case 3:
        out.length = at; // truncate
        break;
      case 4:
        out.push(rng.below(256));
        break;
      default: // a head byte from the interesting ones
        out[Math.min(at, out.length - 1)] = [0x18, 0x19, 0x1a, 0x1b, 0x38, 0x40, 0x58, 0x59, 0x60, 0x78, 0xa0, 0xa1, 0xb8, 0xf4, 0xf5, 0xf6, 0x17, 0xff][rng.below(18)] as number;
    }
    if (out.length === 0) out.push(0xa0);
  }
  return Uint8Array.from(out);
}

// A struct with every leaf kind, optional fields and the highest one-byte label.
const Every = codec(
  'EVERY',
  struct(
    {
      u: [0, uint()],
      small: [1, uint({ min: 1, max: 300 })],
      i: [2, int()],
      flag: [3, bool()],
      id: [4, bytes({ len: 16 })],
      data: [5, bytes({ max: 70_000 })],
      name: [6, text({ max: 64 })],
      color: [7, enumOf({ RED: 0, GREEN: 1, BLUE: 30 })],
      last: [23, uint({ max: 255 })],
    },
    { optional: ['flag', 'data', 'name', 'last'] },
  ),
);
const U_VALUES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
const TEXTS = ['', 'a', 'grüße', '日本語', '😀 emoji', 'x'.repeat(64)];
const DATA_LENS = [0, 1, 23, 24, 255, 256, 65535 - 200];

function randomEvery(rng: Prng): Record<string, unknown> {
  const v: Record<string, unknown> = {
    u: U_VALUES[rng.below(U_VALUES.length)],
    small: 1 + rng.below(300),
    i: (rng.below(2) ? -1 : 1) * (U_VALUES[rng.below(U_VALUES.length)] as number),
    id: rng.bytes(16),
    color: ['RED', 'GREEN', 'BLUE'][rng.below(3)],
  };
  if (rng.below(2)) v.flag = rng.below(2) === 1;
  if (rng.below(2)) v.data = rng.bytes(DATA_LENS[rng.below(DATA_LENS.length)] as number);
  if (rng.below(2)) v.name = TEXTS[rng.below(TEXTS.length)];
  if (rng.below(2)) v.last = rng.below(256);
  return v;
}

t.test('the comparison catches a shortcut that is subtly wrong', async (t) => {
  const p = paths(Every as Codec<unknown>);
  const good = p.encode(randomEvery(new Prng(1)));
  const lax = { decode: (b: Uint8Array, views: boolean) => p.fast.decode(b.subarray(0, b.length - 1), views) ?? p.fast.decode(b, views) }; // ignores a trailing byte
  t.not(decodeDisagreement({ decode: p.decode, fast: lax }, Uint8Array.from([...good, 0]), false), null, 'trailing byte accepted: caught');
  const wrong = { decode: (b: Uint8Array, views: boolean) => ({ ...p.fast.decode(b, views), u: 7 }) };
  t.not(decodeDisagreement({ decode: p.decode, fast: wrong }, good, false), null, 'a different value: caught');
  t.equal(decodeDisagreement(p, good, false), null, 'the real shortcut agrees');
});

t.test('a struct of every leaf kind: same bytes, same values, views and copies', async (t) => {
  const p = paths(Every as Codec<unknown>);
  const rng = new Prng(0xf1a7);
  let checked = 0;
  for (let n = 0; n < 500; n++) {
    const v = randomEvery(rng);
    const head = rng.below(2) ? rng.below(256) : undefined;
    const fast = p.fast.encode(v, head);
    const generic = p.encode(v, head);
    if (fast === undefined || Buffer.compare(fast, generic) !== 0) {
      t.fail(`encodings differ for ${canon(v).slice(0, 200)}`);
      break;
    }
    const body = head === undefined ? generic : generic.subarray(1);
    for (const views of [false, true]) {
      const got = p.fast.decode(body, views) as Record<string, unknown> | undefined;
      if (got === undefined || canon(got) !== canon(p.decode(body, views))) {
        t.fail(`decodes differ for ${canon(v).slice(0, 200)}`);
        break;
      }
      const id = got.id as Uint8Array;
      if (id.constructor !== Uint8Array || (id.buffer === body.buffer) !== views) {
        t.fail('byte fields must be plain views with views, plain copies without');
        break;
      }
    }
    checked++;
  }
  t.equal(checked, 500, '500 random values agree both ways');
  // A Buffer in gives Uint8Arrays out, as the generic path does.
  const b = Buffer.from(p.encode(randomEvery(rng)));
  t.equal((p.fast.decode(b, true) as { id: Uint8Array }).id.constructor, Uint8Array);
});

t.test('values the schema refuses are left to the generic path, which throws', async (t) => {
  const p = paths(Every as Codec<unknown>);
  const base = randomEvery(new Prng(5));
  const bad: Array<[string, unknown]> = [
    ['missing field', { ...base, u: undefined }],
    ['unknown field', { ...base, extra: 1 }],
    ['out of range', { ...base, small: 301 }],
    ['a fraction', { ...base, u: 1.5 }],
    ['unsafe integer', { ...base, i: -(2 ** 53) }],
    ['wrong length', { ...base, id: new Uint8Array(15) }],
    ['text too long', { ...base, name: 'x'.repeat(65) }],
    ['lone surrogate', { ...base, name: '\ud800' }],
    ['unknown enum name', { ...base, color: 'PINK' }],
    ['a class instance', new (class {})()],
    ['null', null],
    ['bad head byte', base],
  ];
  for (const [what, v] of bad) {
    const head = what === 'bad head byte' ? 256 : undefined;
    t.equal(p.fast.encode(v, head), undefined, `${what}: not taken`);
    t.throws(() => (Every as Codec<unknown>).encode(v as never, head), `${what}: the codec throws`);
  }
});

const SAMPLES: Array<{ type: MessageType } & Record<string, unknown>> = [
  { type: 'ROUTE', id: new Uint8Array(16).fill(1), key: new Uint8Array(32).fill(2), htl: 10, purpose: 'FIND_NODE' },
  { type: 'ROUTE', id: new Uint8Array(16).fill(3), key: new Uint8Array(32).fill(4), htl: 1, purpose: 'PUT_BLOCK', kind: 'CHK', block: new Uint8Array(32768).fill(9), copies: 6 },
  { type: 'ROUTE', id: new Uint8Array(16).fill(3), key: new Uint8Array(32).fill(4), htl: 3, purpose: 'STORE_BLOCK', kind: 'SSK', block: new Uint8Array(100).fill(7) },
  { type: 'ROUTE', id: new Uint8Array(16), key: new Uint8Array(32), htl: 2, purpose: 'GET_BLOCK', kind: 'CHK' },
  { type: 'ROUTE', id: new Uint8Array(16), key: new Uint8Array(32), htl: 2, purpose: 'FIND_NODE', payload: new Uint8Array(40).fill(5) },
  { type: 'ROUTE_ACCEPTED', id: new Uint8Array(16).fill(8) },
  { type: 'ROUTE_REPLY', id: new Uint8Array(16), hops: 4, node: new Uint8Array(200).fill(1), payload: new Uint8Array(3) },
  { type: 'ROUTE_REJECT', id: new Uint8Array(16), reason: 'NOT_FOUND' },
  { type: 'PEX_REQUEST', nonce: new Uint8Array(8).fill(2), target: new Uint8Array(32), max: 8, self: new Uint8Array(150).fill(3) },
  { type: 'PING', nonce: new Uint8Array(8).fill(1) },
  { type: 'PONG', nonce: new Uint8Array(8).fill(2) },
  { type: 'BLOCK_REPLY', id: new Uint8Array(16), hops: 255, block: new Uint8Array(1000).fill(6) },
  { type: 'PUT_REPLY', id: new Uint8Array(16), hops: 2, stored: 3 },
];

t.test('which routing messages are flat', async (t) => {
  const flat = (Object.keys(MESSAGE_TYPES) as MessageType[]).filter((m) => flatCodec(bodyCodec(m).schema.fields ?? [], WIRE_MAX_MESSAGE) !== undefined);
  t.same(flat.sort(), ['BLOCK_REPLY', 'PEX_REQUEST', 'PING', 'PONG', 'PUT_REPLY', 'ROUTE', 'ROUTE_ACCEPTED', 'ROUTE_REJECT', 'ROUTE_REPLY']);
});

t.test('routing messages: the same bytes, and mutated bytes decode alike or fall through', async (t) => {
  const rng = new Prng(0x5eed);
  let accepted = 0, left = 0;
  const problems: string[] = [];
  for (const m of SAMPLES) {
    const p = paths(bodyCodec(m.type));
    const { type, ...body } = m;
    const bytes = encodeMessage(m as never);
    t.equal(Buffer.compare(bytes, p.encode(body, MESSAGE_TYPES[type])), 0, `${type}: encoded alike`);
    t.equal(canon(decodeMessage(bytes)), canon(m), `${type}: round trip`);
    const small = m.type === 'ROUTE' && (m.block as Uint8Array | undefined)?.length === 32768 ? MUTATIONS / 8 : MUTATIONS; // a 32 KiB one is slow to copy
    for (let n = 0; n < small; n++) {
      const input = mutate(rng, bytes.subarray(1));
      const views = rng.below(2) === 1;
      const d = decodeDisagreement(p, input, views);
      if (d !== null) problems.push(`${type} ${Buffer.from(input).toString('hex').slice(0, 120)}: ${d}`);
      if (p.fast.decode(input, views) === undefined) left++;
      else accepted++;
    }
  }
  t.same(problems.slice(0, 5), [], 'no disagreement');
  t.comment(`mutated inputs: ${accepted} taken by the shortcut, ${left} left to the generic path`);
  t.ok(accepted > 1000 && left > 1000, 'both outcomes are exercised');
});

t.test('random bytes behind a map head', async (t) => {
  const rng = new Prng(77);
  const p = paths(bodyCodec('PUT_REPLY'));
  const problems: string[] = [];
  for (let n = 0; n < 20_000; n++) {
    const input = Uint8Array.from([0xa0 | rng.below(5), ...rng.bytes(rng.below(40))]);
    const d = decodeDisagreement(p, input, false);
    if (d !== null) problems.push(d);
  }
  t.same(problems.slice(0, 3), []);
});
