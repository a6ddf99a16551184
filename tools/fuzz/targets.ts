// The registered fuzz targets: every decoder that faces the network belongs here, with a few valid
// encodings as seeds. The wire tests and `npm run fuzz` run all of them. The sample codecs below
// stand in for the real messages until routing/ defines them; they exercise every combinator.
import { decodeCbor, encodeCbor, type CborValue } from '../../routing/wire/cbor.ts';
import { isWireError } from '../../routing/wire/errors.ts';
import { array, bool, bytes, codec, enumOf, int, optional, struct, text, tuple, uint, type Codec } from '../../routing/wire/schema.ts';
import { mutateCborTree } from './cbor-mutator.ts';
import type { FuzzTarget } from './harness.ts';

// A node-descriptor-shaped record: keys, location, addresses, times, flags, signature.
export const sampleDescriptor = codec(
  'sample-descriptor',
  struct(
    {
      version: [0, uint({ max: 255 })],
      identity: [1, bytes({ len: 32 })],
      onionKey: [2, bytes({ len: 32 })],
      addrs: [3, array(struct({ host: [0, text({ max: 255 })], port: [1, uint({ min: 1, max: 65535 })] }), { min: 1, max: 8 })],
      published: [4, uint()],
      lifetime: [5, uint({ max: 7 * 24 * 3600 })],
      flags: [6, array(enumOf({ relay: 1, store: 2, guard: 3, exit: 4 }), { max: 4 })],
      nickname: [7, text({ max: 32 })],
      signature: [8, bytes({ len: 64 })],
    },
    { optional: ['nickname'] },
  ),
);

// A key-routed request: id, kind, routing key, hops-to-live, and a block for inserts.
export const sampleRequest = codec(
  'sample-request',
  struct(
    {
      id: [0, bytes({ len: 16 })],
      kind: [1, enumOf({ FETCH: 1, INSERT: 2, PROBE: 3 })],
      key: [2, bytes({ len: 32 })],
      htl: [3, uint({ max: 18 })],
      block: [4, bytes({ max: 32 * 1024 + 16 })],
      path: [5, array(tuple(int({ min: -1000, max: 1000 }), optional(bytes({ min: 1, max: 8 }))), { max: 16 })],
      probe: [6, bool()],
    },
    { optional: ['block', 'path', 'probe'] },
  ),
);

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

function codecTarget<T>(c: Codec<T>, samples: T[]): FuzzTarget {
  return {
    name: c.name,
    seeds: samples.map((s) => c.encode(s)),
    decode: (b) => c.decode(b),
    encode: (v) => c.encode(v as T),
    isTypedError: (e) => isWireError(e),
    mutateStructure: mutateCborTree,
  };
}

const cborSeeds: CborValue[] = [
  0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -(2 ** 32), Number.MIN_SAFE_INTEGER,
  '', 'a', 'héllo wörld ✓ 😀', 'x'.repeat(300), new Uint8Array(0), fill(24, 7), fill(300, 0xab),
  true, false, null, [], [[[[1]]]], new Map(),
  new Map<string | number, CborValue>([[1, 'a'], [-3, [1, 2]], ['k', new Map([['z', null]])], [1000, fill(3, 1)]]),
];

export const targets: FuzzTarget[] = [
  {
    name: 'cbor',
    seeds: cborSeeds.map((v) => encodeCbor(v)),
    decode: (b) => decodeCbor(b),
    encode: (v) => encodeCbor(v as CborValue),
    isTypedError: (e) => isWireError(e),
    mutateStructure: mutateCborTree,
  },
  codecTarget(sampleDescriptor, [
    {
      version: 1, identity: fill(32, 1), onionKey: fill(32, 2), published: 1_700_000_000_000, lifetime: 86400,
      addrs: [{ host: '192.0.2.1', port: 9001 }, { host: 'relay.example', port: 443 }], flags: ['relay', 'store'],
      nickname: 'alice', signature: fill(64, 3),
    },
    {
      version: 0, identity: fill(32, 0xff), onionKey: fill(32, 0), published: 0, lifetime: 0,
      addrs: [{ host: '', port: 1 }], flags: [], signature: fill(64, 0),
    },
  ]),
  codecTarget(sampleRequest, [
    { id: fill(16, 9), kind: 'FETCH', key: fill(32, 4), htl: 18 },
    { id: fill(16, 0), kind: 'INSERT', key: fill(32, 5), htl: 3, block: fill(100, 6), probe: false },
    { id: fill(16, 1), kind: 'PROBE', key: fill(32, 0), htl: 0, path: [[-1000, null], [7, fill(8, 2)], [1000, fill(1, 0)]], probe: true },
  ]),
];
