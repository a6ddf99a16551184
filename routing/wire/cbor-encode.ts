// The encoder of Umbra's CBOR profile (cbor.ts, profile.ts): RFC 8949 §4.2.1 deterministic
// encoding of integers within ±(2^53 - 1), byte strings, UTF-8 text, definite arrays, maps keyed by
// integers or text (keys in the order of their encodings' bytes), false, true and null.
//
// Written here rather than through cbor-x because the profile is small and the hot case is not: a
// routing message carrying a 32 KiB block. cbor-x encodes into a shared buffer that it replaces
// every few large messages (a fresh 128 KiB buffer each time), and its output must be copied out;
// here a first pass measures the exact length (and sorts each map's entries once), and a second
// writes every byte straight into the one buffer that is returned. Values outside the profile are
// refused with the same WireErrors the decoder's check uses.
import { bytesToFill } from '../../crypto/bytes.ts';
import { WireError } from './errors.ts';

export type CborKey = number | string;
export type CborValue = null | boolean | number | string | Uint8Array | CborValue[] | CborMap;
export type CborMap = Map<CborKey, CborValue>;

interface Entry {
  key: CborKey;
  sortKey: Uint8Array | null; // a text key's UTF-8 bytes
  value: CborValue;
}

const textEncoder = new TextEncoder();

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

/**
 * The deterministic encoding of `value`, after `head` bytes of room at the start (left for the
 * caller to fill). Throws WireError BAD_TYPE, OUT_OF_RANGE or TOO_DEEP for values outside the
 * profile, and TOO_LARGE if the item is over `maxSize` bytes.
 */
export function encodeProfile(value: CborValue, maxDepth: number, maxSize: number, head = 0): Uint8Array {
  const maps: Entry[][] = [];
  const len = measure(value, 0, maxDepth, maps);
  if (len > maxSize) throw new WireError('TOO_LARGE', `${len} bytes, limit ${maxSize}`);
  const out = bytesToFill(head + len); // every byte after `head` is written below (the caller writes the head)
  const w = new Writer(out, head, maps);
  w.item(value);
  if (w.at !== out.length || w.nextMap !== maps.length) throw new Error('cbor encode: measured and written lengths differ');
  return out;
}

function headLen(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

function checkInt(v: number): void {
  if (!Number.isInteger(v)) throw new WireError('BAD_TYPE', 'not an integer (floats are not used)');
  if (!Number.isSafeInteger(v)) throw new WireError('OUT_OF_RANGE', 'integer beyond ±(2^53 - 1)');
}

const intArg = (v: number): number => (v >= 0 ? v : -1 - v);

// Pass 1: checks `v` against the profile and returns its encoded length. The entries of each map
// are sorted here and pushed onto `maps` in the order pass 2 meets the maps (depth first).
function measure(v: CborValue, depth: number, maxDepth: number, maps: Entry[][]): number {
  switch (typeof v) {
    case 'boolean':
      return 1;
    case 'number':
      checkInt(v);
      return headLen(intArg(v));
    case 'string': {
      const n = utf8Length(v);
      if (n < 0) throw new WireError('BAD_TYPE', 'text holds a lone surrogate');
      return headLen(n) + n;
    }
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Uint8Array) return headLen(v.length) + v.length;
      if (depth + 1 > maxDepth) throw new WireError('TOO_DEEP', `nested deeper than ${maxDepth}`);
      if (Array.isArray(v)) {
        let n = headLen(v.length);
        for (let i = 0; i < v.length; i++) n += measure(v[i], depth + 1, maxDepth, maps); // holes: BAD_TYPE
        return n;
      }
      if (v instanceof Map) {
        const entries: Entry[] = [];
        for (const [key, value] of v) {
          if (typeof key === 'number') checkInt(key);
          else if (typeof key !== 'string' || utf8Length(key) < 0) throw new WireError('BAD_TYPE', 'map key is not an integer or valid text');
          entries.push({ key, sortKey: typeof key === 'string' ? textEncoder.encode(key) : null, value });
        }
        entries.sort(compareKeys);
        maps.push(entries);
        let n = headLen(entries.length);
        for (const e of entries) n += measure(e.key, depth + 1, maxDepth, maps) + measure(e.value, depth + 1, maxDepth, maps);
        return n;
      }
      break;
    }
  }
  throw new WireError('BAD_TYPE', `${describe(v)} has no CBOR form in the profile`);
}

// RFC 8949 §4.2.1: keys sorted by the bytes of their encodings. For our key types that is:
// non-negative integers ascending, then negative integers descending, then text by UTF-8 length,
// then bytewise. Equal keys (0 and -0) are refused: a map may not repeat a key.
function compareKeys(a: Entry, b: Entry): number {
  let d: number;
  if (typeof a.key === 'number' && typeof b.key === 'number') {
    if (a.key >= 0 !== b.key >= 0) return a.key >= 0 ? -1 : 1;
    d = a.key >= 0 ? a.key - b.key : b.key - a.key;
  } else if (typeof a.key === 'number') return -1;
  else if (typeof b.key === 'number') return 1;
  else {
    const x = a.sortKey!, y = b.sortKey!;
    d = x.length - y.length;
    for (let i = 0; d === 0 && i < x.length; i++) d = x[i] - y[i];
  }
  if (d === 0) throw new WireError('DUPLICATE_KEY', 'a map key appears twice');
  return d;
}

// Pass 2: writes what pass 1 measured, map entries in the order pass 1 sorted them.
class Writer {
  at: number;
  nextMap = 0;

  constructor(
    private readonly out: Uint8Array,
    start: number,
    private readonly maps: Entry[][],
  ) {
    this.at = start;
  }

  item(v: CborValue): void {
    const out = this.out;
    if (v === null) out[this.at++] = 0xf6;
    else if (v === false) out[this.at++] = 0xf4;
    else if (v === true) out[this.at++] = 0xf5;
    else if (typeof v === 'number') this.head(v >= 0 ? 0 : 1, intArg(v));
    else if (typeof v === 'string') {
      const n = utf8Length(v);
      this.head(3, n);
      if (textEncoder.encodeInto(v, out.subarray(this.at, this.at + n)).written !== n) throw new Error('cbor encode: text length');
      this.at += n;
    } else if (v instanceof Uint8Array) {
      this.head(2, v.length);
      out.set(v, this.at);
      this.at += v.length;
    } else if (Array.isArray(v)) {
      this.head(4, v.length);
      for (const x of v) this.item(x);
    } else {
      const entries = this.maps[this.nextMap++] as Entry[];
      this.head(5, entries.length);
      for (const e of entries) {
        this.item(e.key);
        this.item(e.value);
      }
    }
  }

  /** A head: major type and argument in its shortest form. */
  private head(major: number, n: number): void {
    const out = this.out, m = major << 5;
    if (n < 24) out[this.at++] = m | n;
    else if (n < 0x100) {
      out[this.at++] = m | 24;
      out[this.at++] = n;
    } else if (n < 0x10000) {
      out[this.at++] = m | 25;
      out[this.at++] = n >>> 8;
      out[this.at++] = n & 0xff;
    } else if (n < 0x100000000) {
      out[this.at++] = m | 26;
      this.u32(n);
    } else {
      out[this.at++] = m | 27;
      this.u32(Math.floor(n / 0x100000000));
      this.u32(n >>> 0);
    }
  }

  private u32(n: number): void {
    const out = this.out;
    out[this.at++] = n >>> 24;
    out[this.at++] = (n >>> 16) & 0xff;
    out[this.at++] = (n >>> 8) & 0xff;
    out[this.at++] = n & 0xff;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return typeof v;
}
