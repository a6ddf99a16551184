// A one-walk codec for flat structs: structs (schema.ts) whose every field is a leaf (uint, int,
// bool, bytes, text or enum) under a one-byte label (0-23). Most routing messages are flat, the
// bulk ones among them (a ROUTE carrying a 32 KiB block, its PUT_REPLY). The generic path walks a
// message three times each way (decode: profile check, cbor-x, schema; encode: schema to a Map,
// measure and write, profile check of the output); at V8's baseline tier, where a fresh node runs
// it, that cost ~9 µs to decode and ~21 µs to encode a ROUTE with a block. This reads and writes
// the bytes directly, in RFC 8949 §4.2.1 deterministic form, as the profile (profile.ts) demands.
//
// It is a shortcut, never the authority: it handles only what it is sure of and returns undefined
// for anything else (any defect, any unusual form, any value the schema refuses); the codec then
// runs the generic path, which gives the answer and the typed error. So an input is accepted only
// if the generic path accepts it too, with the same value; tests/routing/wire-flat.test.ts checks
// the two agree byte for byte and value for value, on valid, mutated and random input.
import { bytesToFill, putU64be } from '../../crypto/bytes.ts';
import { utf8Length } from './cbor-encode.ts';
import type { CborValue } from './cbor-encode.ts';
import type { StructField } from './schema.ts';

/** Encode and decode of one flat struct; undefined means "not mine: use the generic path". */
export interface FlatCodec {
  encode(value: unknown, head: number | undefined): Uint8Array | undefined;
  decode(bytes: Uint8Array, views: boolean): Record<string, unknown> | undefined;
}

const LEAF_KINDS = new Set(['uint', 'int', 'bool', 'bytes', 'text', 'enum']);
const MAJOR_UINT = 0, MAJOR_NEG = 1, MAJOR_BYTES = 2, MAJOR_TEXT = 3, MAJOR_MAP = 5;
const FALSE = 0xf4, TRUE = 0xf5;
const TWO32 = 2 ** 32;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Out = new TextEncoder();

/** The flat codec of a struct's fields, or undefined if the struct is not flat. */
export function flatCodec(fields: readonly StructField[], maxSize: number): FlatCodec | undefined {
  if (fields.length === 0 || fields.length > 24) return undefined;
  for (const f of fields) if (!LEAF_KINDS.has(f.schema.kind) || !(f.key >= 0 && f.key <= 23)) return undefined;
  const sorted = [...fields].sort((a, b) => a.key - b.key);
  const byKey: (StructField | undefined)[] = new Array(24).fill(undefined);
  for (const f of sorted) byKey[f.key] = f;
  const names = new Set(sorted.map((f) => f.name));
  return {
    encode: (value, head) => encodeFlat(sorted, names, maxSize, value, head),
    decode: (bytes, views) => decodeFlat(sorted, byKey, maxSize, bytes, views),
  };
}

// --- decoding ---

let after = 0; // where the head readArg just read ends

/** The argument of the head at `p` (shortest form only, at most 2^53 - 1), or -1. Sets `after`. */
function readArg(b: Uint8Array, p: number, end: number): number {
  const info = (b[p] as number) & 31;
  if (info < 24) {
    after = p + 1;
    return info;
  }
  let v: number;
  if (info === 24) {
    if (p + 2 > end) return -1;
    v = b[p + 1] as number;
    if (v < 24) return -1;
    after = p + 2;
  } else if (info === 25) {
    if (p + 3 > end) return -1;
    v = ((b[p + 1] as number) << 8) | (b[p + 2] as number);
    if (v < 0x100) return -1;
    after = p + 3;
  } else if (info === 26) {
    if (p + 5 > end) return -1;
    v = ((b[p + 1] as number) * 0x1000000) + (((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 8) | (b[p + 4] as number));
    if (v < 0x10000) return -1;
    after = p + 5;
  } else if (info === 27) {
    if (p + 9 > end) return -1;
    const hi = ((b[p + 1] as number) * 0x1000000) + (((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 8) | (b[p + 4] as number));
    const lo = ((b[p + 5] as number) * 0x1000000) + (((b[p + 6] as number) << 16) | ((b[p + 7] as number) << 8) | (b[p + 8] as number));
    if (hi === 0 || hi >= 0x200000) return -1; // shorter form exists, or over 2^53 - 1
    v = hi * TWO32 + lo;
    after = p + 9;
  } else return -1;
  return v;
}

function decodeFlat(
  fields: readonly StructField[],
  byKey: readonly (StructField | undefined)[],
  maxSize: number,
  input: Uint8Array,
  views: boolean,
): Record<string, unknown> | undefined {
  if (!(input instanceof Uint8Array)) return undefined;
  const n = input.length;
  if (n === 0 || n > maxSize || (input[0] as number) >> 5 !== MAJOR_MAP) return undefined;
  // A plain view, as the generic path makes: byte fields come back as Uint8Arrays, not Buffers.
  const b = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, n);
  const count = readArg(b, 0, n);
  if (count < 0 || count > fields.length) return undefined;
  let p = after;
  const out: Record<string, unknown> = {};
  let last = -1;
  for (let i = 0; i < count; i++) {
    if (p + 2 > n) return undefined;
    const k = b[p] as number; // a label 0-23 is a one-byte unsigned integer
    if (k <= last || k > 23) return undefined;
    last = k;
    const f = byKey[k];
    if (f === undefined) return undefined;
    p++;
    const first = b[p] as number;
    let v: CborValue;
    if (f.schema.kind === 'bool') {
      if (first !== FALSE && first !== TRUE) return undefined;
      v = first === TRUE;
      p++;
    } else {
      const major = first >> 5;
      const arg = readArg(b, p, n);
      if (arg < 0) return undefined;
      p = after;
      switch (f.schema.kind) {
        case 'uint':
        case 'enum':
          if (major !== MAJOR_UINT) return undefined;
          v = arg;
          break;
        case 'int':
          if (major === MAJOR_UINT) v = arg;
          else if (major === MAJOR_NEG && arg < Number.MAX_SAFE_INTEGER) v = -1 - arg;
          else return undefined;
          break;
        case 'bytes':
          if (major !== MAJOR_BYTES || arg > n - p) return undefined;
          v = views ? b.subarray(p, p + arg) : b.slice(p, p + arg);
          p += arg;
          break;
        default: // text
          if (major !== MAJOR_TEXT || arg > n - p) return undefined;
          try {
            v = utf8.decode(b.subarray(p, p + arg));
          } catch {
            return undefined;
          }
          p += arg;
      }
    }
    try {
      out[f.name] = f.schema.fromCbor(v);
    } catch {
      return undefined;
    }
  }
  if (p !== n) return undefined;
  for (const f of fields) if (f.required && !Object.hasOwn(out, f.name)) return undefined;
  return out;
}

// --- encoding ---

function headLen(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO32 ? 5 : 9;
}

function writeHead(out: Uint8Array, p: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    out[p] = m | n;
    return p + 1;
  }
  if (n < 0x100) {
    out[p] = m | 24;
    out[p + 1] = n;
    return p + 2;
  }
  if (n < 0x10000) {
    out[p] = m | 25;
    out[p + 1] = n >>> 8;
    out[p + 2] = n & 0xff;
    return p + 3;
  }
  if (n < TWO32) {
    out[p] = m | 26;
    out[p + 1] = n >>> 24;
    out[p + 2] = (n >>> 16) & 0xff;
    out[p + 3] = (n >>> 8) & 0xff;
    out[p + 4] = n & 0xff;
    return p + 5;
  }
  out[p] = m | 27;
  putU64be(out, p + 1, n);
  return p + 9;
}

function encodeFlat(
  fields: readonly StructField[],
  names: ReadonlySet<string>,
  maxSize: number,
  value: unknown,
  head: number | undefined,
): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if (head !== undefined && !(Number.isInteger(head) && head >= 0 && head <= 255)) return undefined;
  const rec = value as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (!names.has(k) && rec[k] !== undefined) return undefined;
  const values = new Array<CborValue | undefined>(fields.length); // each field's CBOR form
  let count = 0;
  let size = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as StructField;
    const v = rec[f.name];
    if (v === undefined) {
      if (f.required) return undefined;
      continue;
    }
    let c: CborValue;
    try {
      c = f.schema.toCbor(v); // validates; an enum's code
    } catch {
      return undefined;
    }
    values[i] = c;
    count++;
    size += 1; // the label
    switch (f.schema.kind) {
      case 'bool':
        size += 1;
        break;
      case 'bytes':
        size += headLen((c as Uint8Array).length) + (c as Uint8Array).length;
        break;
      case 'text': {
        const len = utf8Length(c as string);
        size += headLen(len) + len;
        break;
      }
      default: // uint, int, enum
        size += headLen((c as number) < 0 ? -1 - (c as number) : (c as number));
    }
  }
  size += headLen(count);
  if (size > maxSize) return undefined;
  const at = head === undefined ? 0 : 1;
  const out = bytesToFill(at + size); // every byte is written below
  if (head !== undefined) out[0] = head;
  let p = writeHead(out, at, MAJOR_MAP, count);
  for (let i = 0; i < fields.length; i++) {
    const c = values[i];
    if (c === undefined) continue;
    const f = fields[i] as StructField;
    out[p++] = f.key;
    switch (f.schema.kind) {
      case 'bool':
        out[p++] = c === true ? TRUE : FALSE;
        break;
      case 'bytes':
        p = writeHead(out, p, MAJOR_BYTES, (c as Uint8Array).length);
        out.set(c as Uint8Array, p);
        p += (c as Uint8Array).length;
        break;
      case 'text': {
        const len = utf8Length(c as string);
        p = writeHead(out, p, MAJOR_TEXT, len);
        utf8Out.encodeInto(c as string, out.subarray(p, p + len));
        p += len;
        break;
      }
      default:
        p = (c as number) < 0 ? writeHead(out, p, MAJOR_NEG, -1 - (c as number)) : writeHead(out, p, MAJOR_UINT, c as number);
    }
  }
  if (p !== out.length) throw new Error('flat encode: measured and written lengths differ');
  return out;
}
