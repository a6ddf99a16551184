// Schema combinators for Umbra's wire messages, and the Codec made from a schema: the one strict
// decoder (and encoder) per message type. A schema validates shape, types, lengths and bounds and
// converts between the typed value and its CBOR form (cbor.ts); a Codec adds the bytes.
// DESIGN.md "Wire and code rules"; STYLE.md habits 2, 3 and 12.
//
// Structs are CBOR maps keyed by small unsigned integers, as COSE (RFC 9052) and CTAP2 do: a label
// of 0-23 is one byte on the wire, integer keys compare cheaply, and the labels are a namespace of
// their own, so renaming a field in the code never changes the wire. Unknown labels are refused:
// a new field means a new message version, never a silently ignored one.
//
//   const Hello = codec('Hello', struct({
//     version: [0, uint({ max: 255 })],
//     id: [1, bytes({ len: 32 })],
//     note: [2, text({ max: 64 })],
//   }, { optional: ['note'] }));
//   Hello.decode(bytes) // { version: number; id: Uint8Array; note?: string }, or throws WireError
import { WIRE_MAX_FIELD_KEY, WIRE_MAX_MESSAGE } from '../constants.ts';
import { decodeCbor, type DecodeOptions, encodeCbor, utf8Length, type CborLimits, type CborValue } from './cbor.ts';
import { WireError } from './errors.ts';
import { flatCodec } from './flat.ts';

export interface Schema<T> {
  /** What the schema accepts, for messages: 'uint', 'struct', ... */
  readonly kind: string;
  /** Validates a value (as an encoder would) and returns it, typed. */
  check(value: unknown): T;
  /** Validates a value and gives its CBOR form (what an encoder writes). */
  toCbor(value: unknown): CborValue;
  /** Validates a decoded CBOR item and gives the typed value. */
  fromCbor(item: CborValue): T;
  /** A struct's fields, sorted by label (structs only: what flat.ts compiles). */
  readonly fields?: readonly StructField[];
}
export interface StructField {
  readonly name: string;
  readonly key: number;
  readonly schema: Schema<unknown>;
  readonly required: boolean;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface Codec<T> {
  readonly name: string;
  readonly schema: Schema<T>;
  /** Validates `value` and encodes it (after the byte `head`, if given); throws WireError if it does not fit the schema or limits. */
  encode(value: T, head?: number): Uint8Array;
  /**
   * Decodes exactly one message; throws WireError on any bad input. With `opts.views` the caller
   * hands `bytes` over for good and byte fields come back as views into it (no copy).
   */
  decode(bytes: Uint8Array, opts?: DecodeOptions): T;
}

export function codec<T>(name: string, schema: Schema<T>, limits?: CborLimits): Codec<T> {
  const encode = (value: T, head?: number) => encodeCbor(schema.toCbor(value), limits, head);
  const decode = (bytes: Uint8Array, opts?: DecodeOptions) => schema.fromCbor(decodeCbor(bytes, limits, opts));
  // A flat struct gets the one-walk shortcut (flat.ts); whatever it does not take, this path decides.
  const flat = schema.fields === undefined ? undefined : flatCodec(schema.fields, limits?.maxSize ?? WIRE_MAX_MESSAGE);
  if (flat === undefined) return { name, schema, encode, decode };
  return {
    name,
    schema,
    encode: (value, head) => flat.encode(value, head) ?? encode(value, head),
    decode: (bytes, opts) => (flat.decode(bytes, opts?.views === true) as T | undefined) ?? decode(bytes, opts),
  };
}

// --- leaves: the same checks both ways, since their CBOR form is the value itself ---

function leaf<T>(kind: string, validate: (v: unknown) => T): Schema<T> {
  return { kind, check: validate, toCbor: validate as (v: unknown) => CborValue, fromCbor: validate };
}

function bound(name: string, n: number | undefined, fallback: number): number {
  const v = n ?? fallback;
  if (!Number.isSafeInteger(v)) throw new RangeError(`schema: ${name} must be a safe integer`);
  return v;
}

function integer(v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WireError('BAD_TYPE', 'expected an integer');
  if (v < min || v > max) throw new WireError('OUT_OF_RANGE', `${v} not in [${min}, ${max}]`);
  return v === 0 ? 0 : v; // -0 is 0
}

/** An unsigned integer in [min, max] (default [0, 2^53 - 1]). */
export function uint(opts: { min?: number; max?: number } = {}): Schema<number> {
  const min = bound('min', opts.min, 0), max = bound('max', opts.max, Number.MAX_SAFE_INTEGER);
  if (min < 0 || max < min) throw new RangeError('schema: uint needs 0 <= min <= max');
  return leaf('uint', (v) => integer(v, min, max));
}

/** A signed integer in [min, max] (default ±(2^53 - 1)). */
export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  const min = bound('min', opts.min, Number.MIN_SAFE_INTEGER), max = bound('max', opts.max, Number.MAX_SAFE_INTEGER);
  if (max < min) throw new RangeError('schema: int needs min <= max');
  return leaf('int', (v) => integer(v, min, max));
}

export function bool(): Schema<boolean> {
  return leaf('bool', (v) => {
    if (typeof v !== 'boolean') throw new WireError('BAD_TYPE', 'expected a boolean');
    return v;
  });
}

type LengthOpts = { len: number } | { min?: number; max: number };
function lengths(opts: LengthOpts): [number, number] {
  const [min, max] = 'len' in opts ? [opts.len, opts.len] : [opts.min ?? 0, opts.max];
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
    throw new RangeError('schema: lengths need 0 <= min <= max');
  }
  return [min, max];
}
function checkLength(what: string, n: number, min: number, max: number): void {
  if (n < min || n > max) {
    throw new WireError('BAD_LENGTH', min === max ? `${what} of ${n}, expected ${min}` : `${what} of ${n}, expected ${min}-${max}`);
  }
}

/** A byte string of exactly `len` bytes, or of min (default 0) to max bytes. */
export function bytes(opts: LengthOpts): Schema<Uint8Array> {
  const [min, max] = lengths(opts);
  return leaf('bytes', (v) => {
    if (!(v instanceof Uint8Array)) throw new WireError('BAD_TYPE', 'expected a byte string');
    checkLength('byte string', v.length, min, max);
    return v;
  });
}

/** A text string of min (default 0) to max bytes of UTF-8. */
export function text(opts: { min?: number; max: number }): Schema<string> {
  const [min, max] = lengths(opts);
  return leaf('text', (v) => {
    if (typeof v !== 'string') throw new WireError('BAD_TYPE', 'expected text');
    if (v.length > max) throw new WireError('BAD_LENGTH', `text longer than ${max} bytes`); // cheap first
    const n = utf8Length(v);
    if (n < 0) throw new WireError('BAD_TYPE', 'text holds a lone surrogate');
    checkLength('text of UTF-8 length', n, min, max);
    return v;
  });
}

/** One of a fixed set of names, each sent as its own stable unsigned integer code. */
export function enumOf<const M extends Record<string, number>>(codes: M): Schema<keyof M & string> {
  const names = new Map<number, keyof M & string>();
  for (const [name, code] of Object.entries(codes)) {
    if (!Number.isSafeInteger(code) || code < 0 || names.has(code)) throw new RangeError(`schema: bad enum code for ${name}`);
    names.set(code, name as keyof M & string);
  }
  const toCode = (v: unknown): number => {
    if (typeof v !== 'string') throw new WireError('BAD_TYPE', 'expected an enum name');
    if (!Object.hasOwn(codes, v)) throw new WireError('BAD_ENUM', `unknown name ${JSON.stringify(v.slice(0, 40))}`);
    return codes[v];
  };
  return {
    kind: 'enum',
    check: (v) => (toCode(v), v as keyof M & string),
    toCbor: toCode,
    fromCbor(item) {
      if (typeof item !== 'number') throw new WireError('BAD_TYPE', 'expected an enum code');
      const name = names.get(item);
      if (name === undefined) throw new WireError('BAD_ENUM', `unknown code ${item}`);
      return name;
    },
  };
}

// --- containers: they add the element's place to any WireError from inside ---

function rethrow(e: unknown, segment: string): never {
  throw e instanceof WireError ? e.within(segment) : e;
}

/** A value or null (CBOR null). For a struct field that may be absent, use struct's `optional`. */
export function optional<T>(inner: Schema<T>): Schema<T | null> {
  return {
    kind: `optional ${inner.kind}`,
    check: (v) => (v === null ? null : inner.check(v)),
    toCbor: (v) => (v === null ? null : inner.toCbor(v)),
    fromCbor: (item) => (item === null ? null : inner.fromCbor(item)),
  };
}

/** An array of min (default 0) to max items, each of the one schema. */
export function array<T>(item: Schema<T>, opts: { min?: number; max: number }): Schema<T[]> {
  const [min, max] = lengths(opts);
  function each<R>(v: unknown, f: (x: unknown) => R): R[] {
    if (!Array.isArray(v)) throw new WireError('BAD_TYPE', 'expected an array');
    checkLength('array', v.length, min, max);
    const out = new Array<R>(v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        out[i] = f(v[i]);
      } catch (e) {
        rethrow(e, `[${i}]`);
      }
    }
    return out;
  }
  return {
    kind: 'array',
    check: (v) => (each(v, (x) => item.check(x)), v as T[]),
    toCbor: (v) => each(v, (x) => item.toCbor(x)),
    fromCbor: (v) => each(v, (x) => item.fromCbor(x as CborValue)),
  };
}

/** A fixed-length array whose items each have their own schema. */
export function tuple<const S extends readonly Schema<unknown>[]>(...items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  type T = { -readonly [K in keyof S]: Infer<S[K]> };
  function each<R>(v: unknown, f: (s: Schema<unknown>, x: unknown) => R): R[] {
    if (!Array.isArray(v)) throw new WireError('BAD_TYPE', 'expected an array');
    checkLength('tuple', v.length, items.length, items.length);
    const out = new Array<R>(v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        out[i] = f(items[i], v[i]);
      } catch (e) {
        rethrow(e, `[${i}]`);
      }
    }
    return out;
  }
  return {
    kind: 'tuple',
    check: (v) => (each(v, (s, x) => s.check(x)), v as T),
    toCbor: (v) => each(v, (s, x) => s.toCbor(x)) as CborValue,
    fromCbor: (v) => each(v, (s, x) => s.fromCbor(x as CborValue)) as T,
  };
}

type FieldSpec = readonly [key: number, schema: Schema<any>];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type StructValue<F extends Record<string, FieldSpec>, O extends keyof F> = Simplify<
  { [K in Exclude<keyof F, O>]: Infer<F[K][1]> } & { [K in O]?: Infer<F[K][1]> }
>;

/**
 * A record of named fields, sent as a CBOR map from each field's integer label to its value.
 * Fields listed in `optional` may be absent (undefined); all others must be present.
 */
export function struct<const F extends Record<string, FieldSpec>, const O extends readonly (keyof F & string)[] = []>(
  fields: F,
  opts?: { optional?: O },
): Schema<StructValue<F, O[number]>> {
  type T = StructValue<F, O[number]>;
  const optionalNames = new Set<string>(opts?.optional ?? []);
  const list = Object.entries(fields)
    .map(([name, [key, schema]]) => ({ name, key, schema, required: !optionalNames.has(name) }))
    .sort((a, b) => a.key - b.key);
  const byKey = new Map(list.map((f) => [f.key, f]));
  const names = new Set(list.map((f) => f.name));
  for (const f of list) {
    if (!Number.isSafeInteger(f.key) || f.key < 0 || f.key > WIRE_MAX_FIELD_KEY) throw new RangeError(`schema: bad label for ${f.name}`);
    if (f.name === '__proto__') throw new RangeError('schema: field name __proto__');
  }
  if (byKey.size !== list.length) throw new RangeError('schema: two fields share a label');
  for (const n of optionalNames) if (!names.has(n)) throw new RangeError(`schema: optional ${n} is not a field`);

  function fieldsOf(v: unknown): Record<string, unknown> {
    const proto = typeof v === 'object' && v !== null ? Object.getPrototypeOf(v) : undefined;
    if (proto !== Object.prototype && proto !== null) throw new WireError('BAD_TYPE', 'expected a plain object');
    const rec = v as Record<string, unknown>;
    const own: Record<string, unknown> = Object.create(null); // own fields only: never an inherited 'toString'
    for (const k of Object.keys(rec)) {
      if (names.has(k)) own[k] = rec[k];
      else if (rec[k] !== undefined) throw new WireError('UNKNOWN_FIELD', `unknown field ${JSON.stringify(k.slice(0, 40))}`);
    }
    return own;
  }
  return {
    kind: 'struct',
    fields: list,
    check(v) {
      const rec = fieldsOf(v);
      for (const f of list) {
        if (rec[f.name] === undefined) {
          if (f.required) throw new WireError('MISSING_FIELD', 'missing', f.name);
        } else {
          try {
            f.schema.check(rec[f.name]);
          } catch (e) {
            rethrow(e, f.name);
          }
        }
      }
      return v as T;
    },
    toCbor(v) {
      const rec = fieldsOf(v);
      const out = new Map<number, CborValue>();
      for (const f of list) {
        if (rec[f.name] === undefined) {
          if (f.required) throw new WireError('MISSING_FIELD', 'missing', f.name);
          continue;
        }
        try {
          out.set(f.key, f.schema.toCbor(rec[f.name]));
        } catch (e) {
          rethrow(e, f.name);
        }
      }
      return out;
    },
    fromCbor(item) {
      if (!(item instanceof Map)) throw new WireError('BAD_TYPE', 'expected a map');
      const out: Record<string, unknown> = {};
      for (const [key, value] of item) {
        const f = typeof key === 'number' ? byKey.get(key) : undefined;
        if (f === undefined) throw new WireError('UNKNOWN_FIELD', `unknown label ${JSON.stringify(key).slice(0, 40)}`);
        try {
          out[f.name] = f.schema.fromCbor(value);
        } catch (e) {
          rethrow(e, f.name);
        }
      }
      for (const f of list) if (f.required && !Object.hasOwn(out, f.name)) throw new WireError('MISSING_FIELD', 'missing', f.name);
      return out as T;
    },
  };
}
