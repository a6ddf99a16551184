// Routing message codecs (routing/messages.ts): every type round-trips; junk, unknown types,
// trailing bytes, out-of-range fields, unknown fields and oversized lists are RoutingError
// BAD_MESSAGE; random and mutated inputs never throw anything else.
import t from 'tap';
import { BLOCK_MAX_LEN, HAVE_MAX_KEYS, HTL_MAX, PEX_MAX, WIRE_MAX_MESSAGE } from '../../routing/constants.ts';
import { decodeMessage, encodeMessage, MESSAGE_TYPES, peekType, type RoutingMessage } from '../../routing/messages.ts';
import { SeededRandom } from '../../routing/runtime.ts';
import { array, codec, struct, bytes, uint } from '../../routing/wire/schema.ts';

const rng = new SeededRandom(21);
const id = rng.bytes(16), key = rng.bytes(32), nonce = rng.bytes(8), desc = rng.bytes(170);
const SAMPLES: RoutingMessage[] = [
  { type: 'ROUTE', id, key, htl: 1, purpose: 'FIND_NODE' },
  { type: 'ROUTE', id, key, htl: HTL_MAX, purpose: 'FIND_NODE', payload: rng.bytes(100) },
  { type: 'ROUTE_ACCEPTED', id },
  { type: 'ROUTE_REPLY', id, hops: 3, node: desc },
  { type: 'ROUTE_REPLY', id, hops: 255, node: desc, payload: new Uint8Array(0) },
  { type: 'ROUTE_REJECT', id, reason: 'LOOP' },
  { type: 'ROUTE_REJECT', id, reason: 'NO_ROUTE' },
  { type: 'PEX_REQUEST', nonce, target: key, max: PEX_MAX },
  { type: 'PEX_REQUEST', nonce, target: key, max: 1, self: desc },
  { type: 'PEX_RESPONSE', nonce, descriptors: [] },
  { type: 'PEX_RESPONSE', nonce, descriptors: Array.from({ length: PEX_MAX }, () => desc) },
  { type: 'PING', nonce },
  { type: 'PONG', nonce },
  { type: 'ROUTE', id, key, htl: 9, purpose: 'GET_BLOCK', kind: 'CHK' },
  { type: 'ROUTE', id, key, htl: 9, purpose: 'GET_BLOCK', kind: 'SSK' },
  { type: 'ROUTE', id, key, htl: 9, purpose: 'PUT_BLOCK', kind: 'CHK', block: rng.bytes(300) },
  { type: 'ROUTE', id, key, htl: 1, purpose: 'STORE_BLOCK', kind: 'SSK', block: rng.bytes(1178) },
  { type: 'BLOCK_REPLY', id, hops: 4, block: rng.bytes(200) },
  { type: 'PUT_REPLY', id, hops: 2, stored: 3 },
  { type: 'ROUTE_REJECT', id, reason: 'NOT_FOUND' },
  { type: 'HAVE', nonce, keys: [Uint8Array.of(0, ...key)] },
  { type: 'HAVE', nonce, keys: Array.from({ length: HAVE_MAX_KEYS }, (_, i) => Uint8Array.of(i & 1, ...key)) },
  { type: 'HAVE_REPLY', nonce, missing: [] },
  { type: 'HAVE_REPLY', nonce, missing: [0, 5, HAVE_MAX_KEYS - 1] },
];
const bad = { name: 'RoutingError', code: 'BAD_MESSAGE' };

t.test('every message type round-trips and starts with its type byte', async (t) => {
  for (const m of SAMPLES) {
    const b = encodeMessage(m);
    t.equal(b[0], MESSAGE_TYPES[m.type]);
    t.equal(peekType(b), m.type);
    t.same(decodeMessage(b), m, m.type);
  }
});

t.test('junk is refused with BAD_MESSAGE', async (t) => {
  t.throws(() => decodeMessage(new Uint8Array(0)), bad);
  t.throws(() => decodeMessage(new Uint8Array([1])), bad);
  t.throws(() => decodeMessage(new Uint8Array([0x00, 0xa0])), bad, 'type 0');
  t.throws(() => decodeMessage(new Uint8Array([0x7e, 0xa0])), bad, 'unknown type');
  t.throws(() => decodeMessage(new Uint8Array([MESSAGE_TYPES.BLOCK_REPLY, 0xa0])), bad, 'an empty BLOCK_REPLY');
  t.equal(peekType(new Uint8Array([0x7f, 0])), undefined);
  const ok = encodeMessage(SAMPLES[0]);
  t.throws(() => decodeMessage(Uint8Array.from([...ok, 0])), bad, 'trailing byte');
  t.throws(() => decodeMessage(ok.subarray(0, ok.length - 1)), bad, 'truncated');
  const asPing = ok.slice();
  asPing[0] = MESSAGE_TYPES.PING;
  t.throws(() => decodeMessage(asPing), bad, 'a ROUTE body under the PING type');
});

t.test('fields out of bounds are refused', async (t) => {
  const Raw = codec('raw', struct({ id: [0, bytes({ max: 64 })], key: [1, bytes({ max: 64 })], htl: [2, uint()], purpose: [3, uint()], extra: [9, uint()] }, { optional: ['extra'] }));
  const route = (v: { id: Uint8Array; key: Uint8Array; htl: number; purpose: number; extra?: number }) =>
    Uint8Array.from([MESSAGE_TYPES.ROUTE, ...Raw.encode(v)]);
  t.ok(decodeMessage(route({ id, key, htl: 5, purpose: 0 })), 'the raw form of a good one decodes');
  t.throws(() => decodeMessage(route({ id, key, htl: 0, purpose: 0 })), bad, 'htl 0');
  t.throws(() => decodeMessage(route({ id, key, htl: HTL_MAX + 1, purpose: 0 })), bad, 'htl over max');
  t.throws(() => decodeMessage(route({ id: id.subarray(0, 15), key, htl: 5, purpose: 0 })), bad, 'short id');
  t.throws(() => decodeMessage(route({ id, key: key.subarray(1), htl: 5, purpose: 0 })), bad, 'short key');
  t.throws(() => decodeMessage(route({ id, key, htl: 5, purpose: 7 })), bad, 'unknown purpose');
  t.throws(() => decodeMessage(route({ id, key, htl: 5, purpose: 0, extra: 1 })), bad, 'unknown field');
  // a response with PEX_MAX + 1 descriptors, built by hand: type, map(2), 0, nonce (1 + 8), 1, array head
  const head = encodeMessage({ type: 'PEX_RESPONSE', nonce, descriptors: Array.from({ length: PEX_MAX }, () => new Uint8Array([1])) });
  const arrayAt = 1 + 1 + 1 + 9 + 1;
  t.equal(head[arrayAt], 0x80 + PEX_MAX, 'array head where expected');
  const over = Uint8Array.from([...head.subarray(0, arrayAt), 0x80 + PEX_MAX + 1, ...head.subarray(arrayAt + 1), 0x41, 1]);
  t.throws(() => decodeMessage(over), bad, 'more than PEX_MAX descriptors');
  t.throws(() => encodeMessage({ type: 'ROUTE', id, key, htl: 0, purpose: 'FIND_NODE' }), { name: 'WireError' }, 'we never send one');
});

t.test('block messages: each purpose carries exactly its fields; blocks are bounded', async (t) => {
  const R = codec(
    'raw',
    struct(
      { id: [0, bytes({ max: 64 })], key: [1, bytes({ max: 64 })], htl: [2, uint()], purpose: [3, uint()], payload: [4, bytes({ max: 100 })], kind: [5, uint()], block: [6, bytes({ max: 1 << 20 })], copies: [7, uint()] },
      { optional: ['payload', 'kind', 'block', 'copies'] },
    ),
  );
  const raw = (v: { purpose: number; kind?: number; block?: Uint8Array; payload?: Uint8Array }) =>
    Uint8Array.from([MESSAGE_TYPES.ROUTE, ...R.encode({ id, key, htl: 5, ...v })]);
  const blk = rng.bytes(64);
  t.ok(decodeMessage(raw({ purpose: 1, kind: 0 })), 'a raw GET_BLOCK decodes');
  t.ok(decodeMessage(raw({ purpose: 2, kind: 1, block: blk })), 'a raw PUT_BLOCK decodes');
  t.throws(() => decodeMessage(raw({ purpose: 0, kind: 0 })), bad, 'FIND_NODE with a kind');
  t.throws(() => decodeMessage(raw({ purpose: 0, block: blk })), bad, 'FIND_NODE with a block');
  t.throws(() => decodeMessage(raw({ purpose: 1 })), bad, 'GET_BLOCK without a kind');
  t.throws(() => decodeMessage(raw({ purpose: 1, kind: 0, block: blk })), bad, 'GET_BLOCK with a block');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0 })), bad, 'PUT_BLOCK without a block');
  t.throws(() => decodeMessage(raw({ purpose: 3, block: blk })), bad, 'STORE_BLOCK without a kind');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0, block: blk, payload: blk })), bad, 'PUT_BLOCK with a payload');
  t.throws(() => decodeMessage(raw({ purpose: 1, kind: 2 })), bad, 'unknown kind');
  t.ok(decodeMessage(raw({ purpose: 4, kind: 1 })), 'a raw PEEK_BLOCK decodes');
  t.throws(() => decodeMessage(raw({ purpose: 4, kind: 1, block: blk })), bad, 'PEEK_BLOCK with a block');
  t.throws(() => decodeMessage(raw({ purpose: 4 })), bad, 'PEEK_BLOCK without a kind');
  t.throws(() => decodeMessage(raw({ purpose: 5, kind: 0 })), bad, 'unknown purpose');
  t.ok(decodeMessage(raw({ purpose: 2, kind: 0, block: blk, copies: 6 } as never)), 'PUT_BLOCK may ask for copies');
  t.throws(() => decodeMessage(raw({ purpose: 3, kind: 0, block: blk, copies: 6 } as never)), bad, 'copies only on PUT_BLOCK');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0, block: blk, copies: 0 } as never)), bad, 'copies 0');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0, block: blk, copies: 9 } as never)), bad, 'copies over the cap');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0, block: new Uint8Array(0) })), bad, 'empty block');
  t.throws(() => decodeMessage(raw({ purpose: 2, kind: 0, block: new Uint8Array(BLOCK_MAX_LEN + 1) })), bad, 'block over the limit');
  const biggest = encodeMessage({ type: 'ROUTE', id, key, htl: HTL_MAX, purpose: 'PUT_BLOCK', kind: 'CHK', block: new Uint8Array(BLOCK_MAX_LEN) });
  t.ok(biggest.length <= WIRE_MAX_MESSAGE, `the largest PUT (${biggest.length} bytes) fits the wire limit`);
  t.ok(encodeMessage({ type: 'BLOCK_REPLY', id, hops: 255, block: new Uint8Array(BLOCK_MAX_LEN) }).length <= WIRE_MAX_MESSAGE);
  t.throws(() => encodeMessage({ type: 'ROUTE', id, key, htl: 5, purpose: 'GET_BLOCK' }), TypeError, 'we never send a malformed one');
  t.throws(() => decodeMessage(Uint8Array.from([MESSAGE_TYPES.PUT_REPLY, ...encodeMessage({ type: 'PUT_REPLY', id, hops: 1, stored: 1 }).subarray(1), 0])), bad, 'trailing byte');
});

t.test('random and mutated inputs only ever throw RoutingError', async (t) => {
  let decoded = 0, refused = 0;
  const valid = SAMPLES.map(encodeMessage);
  for (let i = 0; i < 3000; i++) {
    let b: Uint8Array;
    if (i % 3 === 0) b = rng.bytes(rng.int(64));
    else {
      b = valid[rng.int(valid.length)].slice();
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) b[rng.int(b.length)] = rng.int(256);
      if (i % 7 === 0) b = b.subarray(0, rng.int(b.length));
    }
    try {
      decodeMessage(b);
      decoded++;
    } catch (e) {
      if ((e as Error).name !== 'RoutingError') t.fail(`threw ${(e as Error).name}: ${(e as Error).message}`);
      refused++;
    }
  }
  t.ok(refused > 1000, `refused ${refused}, decoded ${decoded}`);
});

t.test('HAVE and HAVE_REPLY: kinds, list bounds and order are checked', async (t) => {
  const RawHave = codec('H', struct({ nonce: [0, bytes({ len: 8 })], keys: [1, array(bytes({ min: 0, max: 64 }), { max: 100 })] }));
  const have = (keys: Uint8Array[]) => Uint8Array.from([MESSAGE_TYPES.HAVE, ...RawHave.encode({ nonce, keys })]);
  t.ok(decodeMessage(have([Uint8Array.of(1, ...key)])), 'an SSK key');
  t.throws(() => decodeMessage(have([Uint8Array.of(2, ...key)])), bad, 'unknown kind byte');
  t.throws(() => decodeMessage(have([])), bad, 'no key');
  t.throws(() => decodeMessage(have([key])), bad, 'a key without its kind byte');
  t.throws(() => decodeMessage(have(Array.from({ length: HAVE_MAX_KEYS + 1 }, () => Uint8Array.of(0, ...key)))), bad, 'too many keys');
  t.throws(() => encodeMessage({ type: 'HAVE', nonce, keys: [Uint8Array.of(7, ...key)] }), TypeError, 'our own bug: a TypeError');
  const RawReply = codec('R', struct({ nonce: [0, bytes({ len: 8 })], missing: [1, array(uint({ max: 1000 }), { max: 100 })] }));
  const reply = (missing: number[]) => Uint8Array.from([MESSAGE_TYPES.HAVE_REPLY, ...RawReply.encode({ nonce, missing })]);
  t.same(decodeMessage(reply([1, 2])), { type: 'HAVE_REPLY', nonce, missing: [1, 2] });
  t.throws(() => decodeMessage(reply([2, 1])), bad, 'descending');
  t.throws(() => decodeMessage(reply([1, 1])), bad, 'repeated');
  t.throws(() => decodeMessage(reply([HAVE_MAX_KEYS])), bad, 'index beyond any HAVE');
});
