// Pure codec for what travels inside one Noise transport message on a link: a whole number of
// fixed-size cells (tor-spec §3: circuit id u32 ‖ command u8 ‖ 509-byte body). Link-level messages
// (the routing protocol's CBOR) larger than one body are split over MESSAGE cells and reassembled
// with a bound. Decoding is strict: a wrong length, an unknown command, or an oversize or malformed
// message is a LinkError, never a crash.

import { CELL_BODY_LEN, CELL_HEADER_LEN, CELL_LEN, CellCommand, MAX_LINK_MESSAGE } from './constants.ts';
import { LinkError } from './link-errors.ts';

export interface Cell {
  circId: number;
  command: number;
  body: Uint8Array; // exactly CELL_BODY_LEN bytes
}

const KNOWN = new Uint8Array(256); // 1 for every cell command we know (a table: checked per cell)
for (const c of Object.values(CellCommand)) KNOWN[c] = 1;

export function encodeCells(cells: Cell[]): Uint8Array {
  const out = new Uint8Array(cells.length * CELL_LEN);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => {
    if (c.body.length !== CELL_BODY_LEN) throw new RangeError('cell body must be 509 bytes');
    dv.setUint32(i * CELL_LEN, c.circId >>> 0, false);
    out[i * CELL_LEN + 4] = c.command;
    out.set(c.body, i * CELL_LEN + 5);
  });
  return out;
}

export function decodeCells(plain: Uint8Array): Cell[] {
  if (plain.length === 0 || plain.length % CELL_LEN !== 0) {
    throw new LinkError('BAD_FRAME', `frame of ${plain.length} bytes is not a whole number of cells`);
  }
  const dv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const cells: Cell[] = [];
  for (let o = 0; o < plain.length; o += CELL_LEN) {
    const command = plain[o + 4] as number;
    if (KNOWN[command] !== 1) throw new LinkError('BAD_CELL', `unknown cell command ${command}`);
    cells.push({ circId: dv.getUint32(o, false), command, body: plain.slice(o + 5, o + CELL_LEN) });
  }
  return cells;
}

/**
 * Checks a frame's plaintext the way decodeCells does (a whole number of cells, every command
 * known) without copying anything out; returns the number of cells. The link then reads them in
 * place (cellAt), so a bulk transfer costs no allocation per cell.
 */
export function checkCells(plain: Uint8Array): number {
  if (plain.length === 0 || plain.length % CELL_LEN !== 0) {
    throw new LinkError('BAD_FRAME', `frame of ${plain.length} bytes is not a whole number of cells`);
  }
  for (let o = 4; o < plain.length; o += CELL_LEN) {
    if (KNOWN[plain[o] as number] !== 1) throw new LinkError('BAD_CELL', `unknown cell command ${plain[o]}`);
  }
  return plain.length / CELL_LEN;
}

/** The circuit id of the cell at byte offset `at` of a checked plaintext. */
export function circIdAt(plain: Uint8Array, at: number): number {
  return (((plain[at] as number) << 24) | ((plain[at + 1] as number) << 16) | ((plain[at + 2] as number) << 8) | (plain[at + 3] as number)) >>> 0;
}

/** Writes one cell at byte offset `at` of `out` (a frame's plaintext). */
export function writeCell(out: Uint8Array, at: number, c: Cell): void {
  if (c.body.length !== CELL_BODY_LEN) throw new RangeError('cell body must be 509 bytes');
  const id = c.circId >>> 0;
  out[at] = id >>> 24;
  out[at + 1] = (id >>> 16) & 0xff;
  out[at + 2] = (id >>> 8) & 0xff;
  out[at + 3] = id & 0xff;
  out[at + 4] = c.command;
  out.set(c.body, at + CELL_HEADER_LEN);
}

// MESSAGE cell body: flags (u8: bit 0 = more fragments follow) ‖ length (u16) ‖ data ‖ zero padding.
const FRAG_HEADER = 3;
export const FRAGMENT_DATA_LEN = CELL_BODY_LEN - FRAG_HEADER; // 506

/** How many MESSAGE cells a link message takes; RangeError if it is empty or over the limit. */
export function messageCellCount(message: Uint8Array): number {
  if (message.length === 0 || message.length > MAX_LINK_MESSAGE) {
    throw new RangeError(`link message must be 1..${MAX_LINK_MESSAGE} bytes`);
  }
  return Math.ceil(message.length / FRAGMENT_DATA_LEN);
}

/** The 8 header bytes of every non-final MESSAGE cell: circuit id 0, MESSAGE, "more", 506. */
const FULL_CELL_HEAD = new Uint8Array([0, 0, 0, 0, CellCommand.MESSAGE, 1, FRAGMENT_DATA_LEN >>> 8, FRAGMENT_DATA_LEN & 0xff]);

/**
 * Writes MESSAGE cells of `message`, from byte `from` on, straight into a frame's plaintext `out`
 * at byte offset `at`, at most `maxCells` of them; returns where in the message it stopped. The
 * same cells messageToCells makes, without a buffer per cell. A full cell is two copies (its
 * constant head, its data): this runs ~65 times per 32 KiB message, mostly before V8 has
 * optimized it, where every single-byte store is a call.
 */
export function writeMessageCells(message: Uint8Array, from: number, out: Uint8Array, at: number, maxCells: number): number {
  const total = message.length;
  let o = from;
  for (let n = 0; n < maxCells && o < total; n++, o += FRAGMENT_DATA_LEN, at += CELL_LEN) {
    const end = o + FRAGMENT_DATA_LEN;
    if (end < total) {
      out.set(FULL_CELL_HEAD, at);
      out.set(message.subarray(o, end), at + CELL_HEADER_LEN + FRAG_HEADER);
    } else {
      const len = total - o; // the final fragment: flags 0, zero padding
      out.fill(0, at, at + CELL_LEN);
      out[at + 4] = CellCommand.MESSAGE;
      out[at + CELL_HEADER_LEN + 1] = len >>> 8;
      out[at + CELL_HEADER_LEN + 2] = len & 0xff;
      out.set(message.subarray(o, total), at + CELL_HEADER_LEN + FRAG_HEADER);
    }
  }
  return Math.min(o, total);
}

export function messageToCells(message: Uint8Array): Cell[] {
  messageCellCount(message);
  const cells: Cell[] = [];
  for (let o = 0; o < message.length; o += FRAGMENT_DATA_LEN) {
    const chunk = message.subarray(o, o + FRAGMENT_DATA_LEN);
    const body = new Uint8Array(CELL_BODY_LEN);
    body[0] = o + FRAGMENT_DATA_LEN < message.length ? 1 : 0;
    body[1] = chunk.length >>> 8;
    body[2] = chunk.length & 0xff;
    body.set(chunk, FRAG_HEADER);
    cells.push({ circId: 0, command: CellCommand.MESSAGE, body });
  }
  return cells;
}

/**
 * Reassembles MESSAGE cells into link messages; one instance per link, bounded in memory: the
 * fragments of a multi-cell message are copied into one scratch buffer of MAX_LINK_MESSAGE bytes
 * (allocated on the first such message), and the whole message is copied out once at its end.
 */
export class MessageAssembler {
  private scratch: Uint8Array | null = null;
  private size = 0;

  /** Feeds one MESSAGE cell; returns the whole message when its last fragment arrives. */
  push(cell: Cell): Uint8Array | undefined {
    return this.pushFragment(cell.circId, cell.body, 0);
  }

  /**
   * Feeds one MESSAGE cell whose body starts at byte `at` of `buf` (e.g. a frame's plaintext, read
   * in place; nothing of `buf` is kept). Same checks and result as push.
   */
  pushFragment(circId: number, buf: Uint8Array, at: number): Uint8Array | undefined {
    if (circId !== 0) throw new LinkError('BAD_CELL', 'MESSAGE cell on a circuit id');
    if (at < 0 || at + CELL_BODY_LEN > buf.length) throw new RangeError('fragment outside the buffer');
    return this.take(buf, at, buf[at] as number, ((buf[at + 1] as number) << 8) | (buf[at + 2] as number));
  }

  /**
   * Feeds the run of MESSAGE cells of a checked frame plaintext `plain` (checkCells) that starts at
   * the cell at byte `at`, up to the first cell of another command or the end, read in place; calls
   * `deliver` with each whole message (the receiver's to keep) and stops early when it returns
   * false. Returns the byte offset of the first cell not consumed. Same checks as pushFragment, in
   * one loop: a frame of a 32 KiB message is ~65 cells, handled mostly before V8 optimizes this.
   */
  feed(plain: Uint8Array, at: number, deliver: (message: Uint8Array) => boolean): number {
    const end = plain.length - (plain.length % CELL_LEN);
    for (; at < end && plain[at + 4] === CellCommand.MESSAGE; at += CELL_LEN) {
      if (((plain[at] as number) | (plain[at + 1] as number) | (plain[at + 2] as number) | (plain[at + 3] as number)) !== 0) {
        throw new LinkError('BAD_CELL', 'MESSAGE cell on a circuit id');
      }
      const b = at + CELL_HEADER_LEN;
      const m = this.take(plain, b, plain[b] as number, ((plain[b + 1] as number) << 8) | (plain[b + 2] as number));
      if (m !== undefined && !deliver(m)) return at + CELL_LEN;
    }
    return at;
  }

  /** One fragment (the body at `at`, its flags and length read): checked, then kept or completed. */
  private take(buf: Uint8Array, at: number, flags: number, len: number): Uint8Array | undefined {
    if (flags > 1 || len === 0 || len > FRAGMENT_DATA_LEN) throw new LinkError('BAD_CELL', 'malformed MESSAGE fragment');
    const d = at + FRAG_HEADER;
    if (len < FRAGMENT_DATA_LEN) {
      for (let i = d + len; i < at + CELL_BODY_LEN; i++) {
        if (buf[i] !== 0) throw new LinkError('BAD_CELL', 'non-zero padding in MESSAGE fragment');
      }
      if (flags === 1) throw new LinkError('BAD_CELL', 'short non-final fragment');
    }
    if (flags === 0 && this.size === 0) return buf.slice(d, d + len); // a one-cell message
    if (this.size + len > MAX_LINK_MESSAGE) throw new LinkError('TOO_LARGE', 'link message over the size limit');
    this.scratch ??= new Uint8Array(MAX_LINK_MESSAGE);
    this.scratch.set(buf.subarray(d, d + len), this.size);
    this.size += len;
    if (flags === 1) return undefined;
    const out = this.scratch.slice(0, this.size);
    this.size = 0;
    return out;
  }
}
