// Umbra's CBOR profile check: one pass over the raw bytes, before cbor-x sees them, that accepts
// exactly the deterministic encoding (RFC 8949 §4.2.1) of one item built from
//   unsigned and negative integers within ±(2^53 - 1), byte strings, UTF-8 text strings,
//   definite-length arrays, definite-length maps keyed by integers or text, false, true, null,
// and rejects anything else with a typed WireError: tags, floats, undefined and other simple values,
// indefinite lengths (UNSUPPORTED); heads longer than needed or map keys out of bytewise order
// (NOT_CANONICAL); repeated keys (DUPLICATE_KEY); nesting beyond maxDepth (TOO_DEEP); items that
// run past the end (TRUNCATED) and bytes after the item (TRAILING_BYTES).
// It is iterative (an explicit stack bounded by maxDepth), so hostile nesting can not overflow the
// call stack, and it allocates nothing proportional to a length field. Since every input cbor-x
// decodes has passed it, none of cbor-x's extension machinery (records, shared structures, packed
// values, tag 27 constructors...) can be reached from the network.
import { WireError } from './errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO32 = 2 ** 32;

/** Throws WireError unless `b` is exactly one item of the profile, nested at most `maxDepth` deep. */
export function checkProfile(b: Uint8Array, maxDepth: number): void {
  const end = b.length;
  // Per open container: items still to read (a map counts keys and values), whether it is a map,
  // and where its previous key's encoding starts and ends. Level 0 is the top level: one item.
  const left = new Float64Array(maxDepth + 1);
  const isMap = new Uint8Array(maxDepth + 1);
  const keyStart = new Int32Array(maxDepth + 1);
  const keyEnd = new Int32Array(maxDepth + 1);
  left[0] = 1;
  let depth = 0;
  let pos = 0;
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) {
        if (pos !== end) throw new WireError('TRAILING_BYTES', `${end - pos} bytes after the item`);
        return;
      }
      depth--;
    }
    const isKey = isMap[depth] === 1 && left[depth] % 2 === 0;
    left[depth]--;
    const start = pos;
    if (pos >= end) throw new WireError('TRUNCATED', 'input ends before an item');
    const ib = b[pos++];
    const major = ib >> 5;
    const ai = ib & 0x1f;

    if (major === 7) {
      if (isKey) throw new WireError('UNSUPPORTED', 'map key is not an integer or text');
      if (ai >= 20 && ai <= 22) continue; // false, true, null
      if (ai === 23) throw new WireError('UNSUPPORTED', 'undefined is not used');
      if (ai >= 25 && ai <= 27) throw new WireError('UNSUPPORTED', 'floating-point numbers are not used');
      if (ai === 31) throw new WireError('BAD_CBOR', 'break outside an indefinite-length item');
      if (ai >= 28) throw new WireError('BAD_CBOR', `reserved initial byte 0x${ib.toString(16)}`);
      throw new WireError('UNSUPPORTED', 'simple values other than false, true and null are not used');
    }
    if (major === 6) throw new WireError('UNSUPPORTED', 'tags are not used');
    if (isKey && major !== 0 && major !== 1 && major !== 3) throw new WireError('UNSUPPORTED', 'map key is not an integer or text');

    // The argument: a value (integers) or a length (strings, arrays, maps).
    let arg: number;
    if (ai < 24) {
      arg = ai;
    } else if (ai <= 27) {
      const n = 1 << (ai - 24);
      if (n > end - pos) throw new WireError('TRUNCATED', 'input ends inside a head');
      let min: number;
      if (ai === 24) {
        arg = b[pos];
        min = 24;
      } else if (ai === 25) {
        arg = (b[pos] << 8) | b[pos + 1];
        min = 0x100;
      } else if (ai === 26) {
        arg = readU32(b, pos);
        min = 0x10000;
      } else {
        const hi = readU32(b, pos);
        // beyond 2^53 the number would be inexact, and no such value or length is accepted below
        arg = hi >= 0x200000 ? Infinity : hi * TWO32 + readU32(b, pos + 4);
        min = TWO32;
      }
      if (arg < min) throw new WireError('NOT_CANONICAL', 'integer or length in a longer head than needed');
      pos += n;
    } else if (ai === 31) {
      if (major >= 2) throw new WireError('UNSUPPORTED', 'indefinite-length items are not used');
      throw new WireError('BAD_CBOR', `invalid initial byte 0x${ib.toString(16)}`);
    } else {
      throw new WireError('BAD_CBOR', `reserved initial byte 0x${ib.toString(16)}`);
    }

    switch (major) {
      case 0:
        if (arg > Number.MAX_SAFE_INTEGER) throw new WireError('OUT_OF_RANGE', 'integer beyond 2^53 - 1');
        break;
      case 1:
        if (arg > Number.MAX_SAFE_INTEGER - 1) throw new WireError('OUT_OF_RANGE', 'integer below -(2^53 - 1)');
        break;
      case 2:
        if (arg > end - pos) throw new WireError('TRUNCATED', 'input ends inside a byte string');
        pos += arg;
        break;
      case 3:
        if (arg > end - pos) throw new WireError('TRUNCATED', 'input ends inside a text string');
        if (!isAscii(b, pos, pos + arg)) {
          try {
            utf8.decode(b.subarray(pos, pos + arg));
          } catch {
            throw new WireError('BAD_CBOR', 'text string is not valid UTF-8');
          }
        }
        pos += arg;
        break;
      default: {
        // 4 (array) or 5 (map). Every item takes at least one byte, so a count beyond what is left
        // is a truncation, found before anything is allocated for it.
        if (depth + 1 > maxDepth) throw new WireError('TOO_DEEP', `nested deeper than ${maxDepth}`);
        const count = major === 5 ? arg * 2 : arg;
        if (count > end - pos) throw new WireError('TRUNCATED', 'input ends inside an array or map');
        depth++;
        left[depth] = count;
        isMap[depth] = major === 5 ? 1 : 0;
        keyStart[depth] = -1;
      }
    }

    if (isKey) {
      // keys are integers or text, so [start, pos) is the whole key's encoding
      if (keyStart[depth] >= 0) {
        const c = compareBytes(b, keyStart[depth], keyEnd[depth], start, pos);
        if (c === 0) throw new WireError('DUPLICATE_KEY', 'map key repeated');
        if (c > 0) throw new WireError('NOT_CANONICAL', 'map keys not in canonical order');
      }
      keyStart[depth] = start;
      keyEnd[depth] = pos;
    }
  }
}

function readU32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

function isAscii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] >= 0x80) return false;
  return true;
}

/** Bytewise lexicographic order of b[as, ae) and b[bs, be) (a shorter prefix sorts first). */
function compareBytes(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = b[as + i] - b[bs + i];
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}
