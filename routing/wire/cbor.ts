// The CBOR layer of Umbra's wire codec: bytes <-> CborValue, over cbor-x, restricted to the profile
// that profile.ts checks (RFC 8949 deterministic encoding of integers within ±(2^53 - 1), byte
// strings, text, arrays, maps keyed by integers or text, false/true/null). Every decoder in routing/
// goes through decodeCbor, and schema.ts builds the typed codecs on top. DESIGN.md "Wire and code
// rules"; STYLE.md habits 2 (pure codecs) and 3 (one strict decoder per input).
//
// cbor-x is fast but permissive and stateful, so it is fenced in:
// - decode: the size limit is checked first, then the whole input is checked against the profile
//   (iteratively, depth-bounded) before cbor-x parses it, so cbor-x never sees tags, floats,
//   indefinite lengths, unsorted or duplicate keys (it keeps the last silently), deep nesting (it
//   recurses until a RangeError), invalid UTF-8 (it substitutes U+FFFD) or trailing bytes.
// - decode hands cbor-x a fresh plain view: cbor-x caches a `dataView` property on the array it is
//   given, and its copyBuffers copies take the input's class (a Buffer in, Buffers out).
// - byte strings are copied out of the input (copyBuffers), so a caller may reuse its buffer.
// - encode: integers of 2^32 and more go to cbor-x as BigInt (it writes larger numbers as float64),
//   map entries are sorted into canonical order, strings with lone surrogates are refused (cbor-x
//   writes them as invalid UTF-8 or as U+FFFD), and the output is copied out of cbor-x's shared
//   8 KiB buffer and checked against the profile, so we never send what we would not accept.
import { Decoder, Encoder } from 'cbor-x';
import { WIRE_DEPTH_CEILING, WIRE_MAX_DEPTH, WIRE_MAX_MESSAGE } from '../constants.ts';
import { WireError } from './errors.ts';
import { checkProfile } from './profile.ts';

export type CborKey = number | string;
export type CborValue = null | boolean | number | string | Uint8Array | CborValue[] | CborMap;
export type CborMap = Map<CborKey, CborValue>;

export interface CborLimits {
  /** Largest input (or output) in bytes; default WIRE_MAX_MESSAGE. */
  maxSize?: number;
  /** Deepest nesting of arrays/maps; default WIRE_MAX_DEPTH, at most WIRE_DEPTH_CEILING. */
  maxDepth?: number;
}

// int64AsNumber and useTag259ForMaps are read by cbor-x 1.6 but missing from its typings, hence the
// option objects are declared apart (no excess-property check).
const decoderOptions = {
  useRecords: false,
  mapsAsObjects: false, // Maps: integer keys stay integers, and no key can reach an object prototype
  copyBuffers: true,
  int64AsNumber: true, // exact: the profile admits only safe integers
  bundleStrings: false,
  structuredClone: false,
};
const encoderOptions = {
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  bundleStrings: false,
  structuredClone: false,
  variableMapSize: true,
};
const cborxDecoder = new Decoder(decoderOptions);
const cborxEncoder = new Encoder(encoderOptions);
const textEncoder = new TextEncoder();

function limitsOf(limits: CborLimits | undefined): { maxSize: number; maxDepth: number } {
  const maxSize = limits?.maxSize ?? WIRE_MAX_MESSAGE;
  const maxDepth = limits?.maxDepth ?? WIRE_MAX_DEPTH;
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError(`bad maxSize ${maxSize}`);
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1 || maxDepth > WIRE_DEPTH_CEILING) {
    throw new RangeError(`bad maxDepth ${maxDepth}`);
  }
  return { maxSize, maxDepth };
}

/** Decodes exactly one profile item; throws WireError on any bad input, TypeError if not bytes. */
export function decodeCbor(bytes: Uint8Array, limits?: CborLimits): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeCbor expects a Uint8Array');
  const { maxSize, maxDepth } = limitsOf(limits);
  if (bytes.length > maxSize) throw new WireError('TOO_LARGE', `${bytes.length} bytes, limit ${maxSize}`);
  checkProfile(bytes, maxDepth);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return cborxDecoder.decode(view) as CborValue;
  } catch (e) {
    throw new WireError('BAD_CBOR', `cbor-x: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Encodes a CborValue in the profile's deterministic form; throws WireError if it can not. */
export function encodeCbor(value: CborValue, limits?: CborLimits): Uint8Array {
  const { maxSize, maxDepth } = limitsOf(limits);
  const prepared = prepare(value, 0, maxDepth);
  let out: Uint8Array;
  try {
    out = new Uint8Array(cborxEncoder.encode(prepared)); // a copy, off cbor-x's shared buffer
  } catch (e) {
    throw new WireError('BAD_CBOR', `cbor-x: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (out.length > maxSize) throw new WireError('TOO_LARGE', `${out.length} bytes, limit ${maxSize}`);
  checkProfile(out, maxDepth);
  return out;
}

/** The UTF-8 length of a string, or -1 if it holds a lone surrogate (so is not valid text). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c > 0xdfff) n += 3;
    else if (c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else return -1;
  }
  return n;
}

// What cbor-x gets: the value checked against the profile, with big integers as BigInt and map
// entries in canonical order. `depth` counts the containers around `v`.
type Prepared = null | boolean | number | bigint | string | Uint8Array | Prepared[] | Map<CborKey | bigint, Prepared>;

function prepare(v: CborValue, depth: number, maxDepth: number): Prepared {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return prepareInt(v);
    case 'string':
      if (utf8Length(v) < 0) throw new WireError('BAD_TYPE', 'text holds a lone surrogate');
      return v;
    case 'object': {
      if (v === null) return null;
      if (v instanceof Uint8Array) return v;
      if (depth + 1 > maxDepth) throw new WireError('TOO_DEEP', `nested deeper than ${maxDepth}`);
      if (Array.isArray(v)) {
        const out: Prepared[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = prepare(v[i], depth + 1, maxDepth); // holes: BAD_TYPE
        return out;
      }
      if (v instanceof Map) {
        const entries: { key: CborKey; wireKey: number | bigint | string; sortKey: Uint8Array | null; value: Prepared }[] = [];
        for (const [key, item] of v) {
          let wireKey: number | bigint | string, sortKey: Uint8Array | null = null;
          if (typeof key === 'number') wireKey = prepareInt(key);
          else if (typeof key === 'string' && utf8Length(key) >= 0) wireKey = key, sortKey = textEncoder.encode(key);
          else throw new WireError('BAD_TYPE', 'map key is not an integer or valid text');
          entries.push({ key, wireKey, sortKey, value: prepare(item, depth + 1, maxDepth) });
        }
        entries.sort(compareKeys);
        return new Map(entries.map((e) => [e.wireKey, e.value]));
      }
      break;
    }
  }
  throw new WireError('BAD_TYPE', `${describe(v)} has no CBOR form in the profile`);
}

function prepareInt(v: number): number | bigint {
  if (!Number.isInteger(v)) throw new WireError('BAD_TYPE', 'not an integer (floats are not used)');
  if (!Number.isSafeInteger(v)) throw new WireError('OUT_OF_RANGE', 'integer beyond ±(2^53 - 1)');
  if (v >= 2 ** 32 || v < -(2 ** 32)) return BigInt(v);
  return v === 0 ? 0 : v; // -0 is 0
}

// RFC 8949 §4.2.1: keys sorted by the bytes of their encodings. For our key types that is:
// non-negative integers ascending, then negative integers descending, then text by UTF-8 length,
// then bytewise.
function compareKeys(a: { key: CborKey; sortKey: Uint8Array | null }, b: { key: CborKey; sortKey: Uint8Array | null }): number {
  if (typeof a.key === 'number' && typeof b.key === 'number') {
    if (a.key >= 0 !== b.key >= 0) return a.key >= 0 ? -1 : 1;
    return a.key >= 0 ? a.key - b.key : b.key - a.key;
  }
  if (typeof a.key === 'number') return -1;
  if (typeof b.key === 'number') return 1;
  const x = a.sortKey!, y = b.sortKey!;
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return typeof v;
}
