// A structure-aware mutation for CBOR inputs: decode a valid message, change one node of its tree
// (a value swapped for one of another type or an edge value, a map entry dropped or added, an array
// item dropped or repeated), encode it again. Byte-level mutations mostly produce malformed CBOR;
// this one produces well-formed messages with the wrong shape, which is what reaches the schema
// checks (BAD_TYPE, BAD_LENGTH, OUT_OF_RANGE, MISSING_FIELD, UNKNOWN_FIELD, BAD_ENUM).
import { decodeCbor, encodeCbor, type CborKey, type CborValue } from '../../routing/wire/cbor.ts';
import type { Prng } from './harness.ts';

const EDGE_INTS = [0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_000_000];
const EDGE_LENGTHS = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 300];

function randomValue(r: Prng, depth: number): CborValue {
  switch (r.below(depth > 2 ? 6 : 8)) {
    case 0:
      return r.pick(EDGE_INTS) * (r.below(4) === 0 ? -1 : 1) || 0;
    case 1:
      return r.below(1000);
    case 2:
      return r.bytes(r.pick(EDGE_LENGTHS));
    case 3:
      return r.pick(['', 'a', 'FETCH', 'relay', 'é', '😀', 'x'.repeat(r.pick(EDGE_LENGTHS))]);
    case 4:
      return r.pick([true, false]);
    case 5:
      return null;
    case 6: {
      const n = r.below(4), out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(randomValue(r, depth + 1));
      return out;
    }
    default: {
      const m = new Map<CborKey, CborValue>();
      for (let n = r.below(4); n > 0; n--) m.set(randomKey(r), randomValue(r, depth + 1));
      return m;
    }
  }
}

function randomKey(r: Prng): CborKey {
  return r.below(5) === 0 ? r.pick(['a', 'id', '0']) : r.below(5) === 0 ? -1 - r.below(3) : r.below(12);
}

/** Every array and map in the tree (the root included), to pick one to edit. */
function containers(v: CborValue, out: (CborValue[] | Map<CborKey, CborValue>)[], depth: number): void {
  if (depth > 32) return;
  if (Array.isArray(v)) {
    out.push(v);
    for (const x of v) containers(x, out, depth + 1);
  } else if (v instanceof Map) {
    out.push(v);
    for (const x of v.values()) containers(x, out, depth + 1);
  }
}

/** A structural edit of a valid CBOR input, or null when the input does not decode. */
export function mutateCborTree(r: Prng, input: Uint8Array): Uint8Array | null {
  let root: CborValue;
  try {
    root = decodeCbor(input);
  } catch {
    return null;
  }
  const list: (CborValue[] | Map<CborKey, CborValue>)[] = [];
  containers(root, list, 0);
  if (list.length === 0) root = randomValue(r, 0);
  else {
    const c = r.pick(list);
    if (Array.isArray(c)) {
      const i = r.below(c.length + 1);
      const op = c.length === 0 ? 0 : r.below(4);
      if (op === 0) c.splice(i, 0, randomValue(r, 1));
      else if (op === 1) c.splice(Math.min(i, c.length - 1), 1);
      else if (op === 2) c.splice(i, 0, c[Math.min(i, c.length - 1)]);
      else c[Math.min(i, c.length - 1)] = randomValue(r, 1);
    } else {
      const keys = [...c.keys()];
      const op = keys.length === 0 ? 0 : r.below(3);
      if (op === 0) c.set(randomKey(r), randomValue(r, 1));
      else if (op === 1) c.delete(r.pick(keys));
      else c.set(r.pick(keys), randomValue(r, 1));
    }
  }
  try {
    return encodeCbor(root);
  } catch {
    return null;
  }
}
