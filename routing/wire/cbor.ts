// The CBOR layer of Umbra's wire codec: bytes <-> CborValue, restricted to the profile that
// profile.ts checks (RFC 8949 deterministic encoding of integers within ±(2^53 - 1), byte strings,
// text, arrays, maps keyed by integers or text, false/true/null). Every decoder in routing/ goes
// through decodeCbor, and schema.ts builds the typed codecs on top. DESIGN.md "Wire and code
// rules"; STYLE.md habits 2 (pure codecs) and 3 (one strict decoder per input).
//
// Decoding goes through cbor-x, which is fast but permissive and stateful, so it is fenced in:
// - the size limit is checked first, then the whole input is checked against the profile
//   (iteratively, depth-bounded) before cbor-x parses it, so cbor-x never sees tags, floats,
//   indefinite lengths, unsorted or duplicate keys (it keeps the last silently), deep nesting (it
//   recurses until a RangeError), invalid UTF-8 (it substitutes U+FFFD) or trailing bytes.
// - decode hands cbor-x a fresh plain view: cbor-x caches a `dataView` property on the array it is
//   given, and its copyBuffers copies take the input's class (a Buffer in, Buffers out).
// - byte strings are copied out of the input (copyBuffers), so a caller may reuse its buffer; a
//   caller that hands its buffer over for good (a routing message fresh off a link) may ask for
//   views into it instead, which saves a copy of every block that crosses a hop.
// Encoding is our own (cbor-encode.ts): it writes exactly the profile, in one buffer of the exact
// length, optionally after one head byte (a message's type byte), and its output still goes
// through the profile check, so we never send what we would not accept.
import { Decoder } from 'cbor-x';
import { type CborValue, encodeProfile } from './cbor-encode.ts';
import { WIRE_DEPTH_CEILING, WIRE_MAX_DEPTH, WIRE_MAX_MESSAGE } from '../constants.ts';
import { WireError } from './errors.ts';
import { checkProfile } from './profile.ts';

export type { CborKey, CborMap, CborValue } from './cbor-encode.ts';
export { utf8Length } from './cbor-encode.ts';

export interface CborLimits {
  /** Largest input (or output) in bytes; default WIRE_MAX_MESSAGE. */
  maxSize?: number;
  /** Deepest nesting of arrays/maps; default WIRE_MAX_DEPTH, at most WIRE_DEPTH_CEILING. */
  maxDepth?: number;
}

// int64AsNumber is read by cbor-x 1.6 but missing from its typings, hence the option object is
// declared apart (no excess-property check).
const decoderOptions = {
  useRecords: false,
  mapsAsObjects: false, // Maps: integer keys stay integers, and no key can reach an object prototype
  copyBuffers: true,
  int64AsNumber: true, // exact: the profile admits only safe integers
  bundleStrings: false,
  structuredClone: false,
};
const cborxDecoder = new Decoder(decoderOptions);
const cborxViewDecoder = new Decoder({ ...decoderOptions, copyBuffers: false });

function limitsOf(limits: CborLimits | undefined): { maxSize: number; maxDepth: number } {
  const maxSize = limits?.maxSize ?? WIRE_MAX_MESSAGE;
  const maxDepth = limits?.maxDepth ?? WIRE_MAX_DEPTH;
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError(`bad maxSize ${maxSize}`);
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1 || maxDepth > WIRE_DEPTH_CEILING) {
    throw new RangeError(`bad maxDepth ${maxDepth}`);
  }
  return { maxSize, maxDepth };
}

/** How decodeCbor returns byte strings: copies (the default), or views into the input. */
export interface DecodeOptions {
  /** The caller gives the input up for good (never changes or reuses it): byte strings come back as views into it. */
  views?: boolean;
}

/** Decodes exactly one profile item; throws WireError on any bad input, TypeError if not bytes. */
export function decodeCbor(bytes: Uint8Array, limits?: CborLimits, opts?: DecodeOptions): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeCbor expects a Uint8Array');
  const { maxSize, maxDepth } = limitsOf(limits);
  if (bytes.length > maxSize) throw new WireError('TOO_LARGE', `${bytes.length} bytes, limit ${maxSize}`);
  checkProfile(bytes, maxDepth);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return (opts?.views === true ? cborxViewDecoder : cborxDecoder).decode(view) as CborValue;
  } catch (e) {
    throw new WireError('BAD_CBOR', `cbor-x: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Encodes a CborValue in the profile's deterministic form (cbor-encode.ts); throws WireError if it
 * can not. With `head` (a byte), the output is that byte followed by the item, in one buffer (the
 * limit counts the item only).
 */
export function encodeCbor(value: CborValue, limits?: CborLimits, head?: number): Uint8Array {
  const { maxSize, maxDepth } = limitsOf(limits);
  if (head !== undefined && !(Number.isInteger(head) && head >= 0 && head <= 255)) throw new RangeError(`bad head byte ${head}`);
  const at = head === undefined ? 0 : 1;
  const out = encodeProfile(value, maxDepth, maxSize, at);
  if (head !== undefined) out[0] = head;
  checkProfile(at === 0 ? out : out.subarray(at), maxDepth);
  return out;
}
