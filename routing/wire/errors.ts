// Typed errors of the wire layer (routing/wire): one class, stable string codes. The code is what a
// caller logs and, translated, what a peer may be told; the message adds a human-readable detail and
// the path of the offending field ("addrs[2].port"). Bad bytes from the network and bad values handed
// to an encoder both throw WireError; API misuse (a non-Uint8Array input, a malformed schema) throws
// TypeError/RangeError instead. DESIGN.md "Wire and code rules", STYLE.md habit 12.

export type WireErrorCode =
  // --- CBOR level: the bytes are not one item of Umbra's CBOR profile ---
  | 'TOO_LARGE' // input (or encoded output) longer than the message size limit
  | 'TRUNCATED' // input ends inside an item
  | 'TRAILING_BYTES' // bytes left over after the single top-level item
  | 'TOO_DEEP' // arrays/maps nested deeper than the depth limit
  | 'BAD_CBOR' // not well-formed CBOR (reserved or stray bytes, invalid UTF-8), or cbor-x refused it
  | 'UNSUPPORTED' // well-formed CBOR outside the profile: tags, floats, undefined, simple values,
  //                 indefinite lengths, map keys other than integers and text
  | 'NOT_CANONICAL' // not the one deterministic encoding: a longer head than needed, unsorted map keys
  | 'DUPLICATE_KEY' // the same key twice in one map
  // --- schema level: one item, but not the message the schema describes ---
  | 'BAD_TYPE' // wrong type (text where bytes were expected, a fraction where an integer was...)
  | 'BAD_LENGTH' // byte string, text or array of the wrong length, or over its maximum
  | 'OUT_OF_RANGE' // integer outside the schema's bounds or outside the safe-integer range
  | 'MISSING_FIELD' // a required struct field is absent
  | 'UNKNOWN_FIELD' // a struct field the schema does not know
  | 'BAD_ENUM'; // an enum code (or name, when encoding) that the schema does not list

export class WireError extends Error {
  readonly code: WireErrorCode;
  /** What went wrong, without the path. */
  readonly detail: string;
  /** Where in the value: '' for the top level, else like 'addrs[2].port'. */
  readonly path: string;
  constructor(code: WireErrorCode, detail: string, path = '') {
    super(path === '' ? detail : `${path}: ${detail}`);
    this.name = 'WireError';
    this.code = code;
    this.detail = detail;
    this.path = path;
  }

  /** The same error seen one level further out: `segment` is a field name or an index like '[3]'. */
  within(segment: string): WireError {
    const path = this.path === '' ? segment : this.path.startsWith('[') ? segment + this.path : `${segment}.${this.path}`;
    return new WireError(this.code, this.detail, path);
  }
}

export function isWireError(e: unknown, code?: WireErrorCode): e is WireError {
  return e instanceof WireError && (code === undefined || e.code === code);
}
