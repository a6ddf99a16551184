// Pure codec for what travels inside one Noise transport message on a link: a whole number of
// fixed-size cell slots of 514 bytes (tor-spec §3: circuit id u32 ‖ command u8 ‖ 509-byte body).
// An observer of the link sees only frame lengths, always a whole number of slots.
//
// Link-level messages (the routing protocol's CBOR, up to MAX_LINK_MESSAGE bytes) travel as a run
// of slots: a MESSAGE cell whose body is the message's length (u32) and its first 505 bytes, then
// the rest of the message in the slots that follow, back to back (no header per slot: a 32 KiB
// block is one copy to write and one to read, not 65 of each), zero padded to the end of its last
// slot. A run may be cut at a frame's end and go on at the start of the next frame. Every other
// cell (PADDING, circuits' cells) is one slot with its own header.
//
// Decoding is strict: a frame that is not a whole number of slots, an unknown command, a MESSAGE
// cell on a circuit id, a length of 0 or over the bound, or non-zero padding is a LinkError, never
// a crash. A message's buffer is allocated at its head, of its exact size, once per link at a time.

import { CELL_BODY_LEN, CELL_HEADER_LEN, CELL_LEN, CellCommand, MAX_LINK_MESSAGE } from './constants.ts';
import { bytesToFill } from '../crypto/bytes.ts';
import { LinkError } from './link-errors.ts';

export interface Cell {
  circId: number;
  command: number;
  body: Uint8Array; // exactly CELL_BODY_LEN bytes
}

const KNOWN = new Uint8Array(256); // 1 for every cell command we know (a table: checked per cell)
for (const c of Object.values(CellCommand)) KNOWN[c] = 1;

const LENGTH_LEN = 4;
/** Message bytes in a run's head slot; the rest fill whole slots after it. */
export const MESSAGE_HEAD_DATA = CELL_BODY_LEN - LENGTH_LEN; // 505

/** Slots that carry bytes [0, upTo) of a message's run (upTo is 0, the message's length, or where a frame cut it). */
function slotsUpTo(upTo: number): number {
  return upTo === 0 ? 0 : 1 + Math.ceil(Math.max(0, upTo - MESSAGE_HEAD_DATA) / CELL_LEN);
}

/** How many slots a link message takes; RangeError if it is empty or over the limit. */
export function messageCellCount(message: Uint8Array): number {
  if (message.length === 0 || message.length > MAX_LINK_MESSAGE) {
    throw new RangeError(`link message must be 1..${MAX_LINK_MESSAGE} bytes`);
  }
  return slotsUpTo(message.length);
}

function putU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

function u32At(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

/** Writes one standalone cell at byte offset `at` of `out` (a frame's plaintext). */
export function writeCell(out: Uint8Array, at: number, c: Cell): void {
  if (c.body.length !== CELL_BODY_LEN) throw new RangeError('cell body must be 509 bytes');
  putU32(out, at, c.circId >>> 0);
  out[at + 4] = c.command;
  out.set(c.body, at + CELL_HEADER_LEN);
}

/**
 * Writes `message`'s run from message byte `from` on (0, or where an earlier frame stopped) into a
 * frame's plaintext `out` at byte offset `at`, in at most `maxSlots` slots; returns where in the
 * message it stopped (its length once it is all written). Every byte of the slots used is written.
 */
export function writeMessageCells(message: Uint8Array, from: number, out: Uint8Array, at: number, maxSlots: number): number {
  const total = message.length;
  if (maxSlots <= 0 || from >= total) return from;
  let slots = maxSlots;
  if (from === 0) {
    const first = Math.min(total, MESSAGE_HEAD_DATA);
    putU32(out, at, 0); // circuit id 0: the link itself
    out[at + 4] = CellCommand.MESSAGE;
    putU32(out, at + CELL_HEADER_LEN, total);
    const d = at + CELL_HEADER_LEN + LENGTH_LEN;
    out.set(first === total ? message : message.subarray(0, first), d);
    if (d + first < at + CELL_LEN) out.fill(0, d + first, at + CELL_LEN);
    from = first;
    at += CELL_LEN;
    slots--;
  }
  const n = Math.min(total - from, slots * CELL_LEN);
  if (n > 0) {
    out.set(message.subarray(from, from + n), at);
    const pad = (CELL_LEN - (n % CELL_LEN)) % CELL_LEN; // only the last slot of a run is partial
    if (pad > 0) out.fill(0, at + n, at + n + pad);
  }
  return from + n;
}

/** Slots written by writeMessageCells going from message byte `from` to `to`. */
export function messageSlotsBetween(from: number, to: number): number {
  return slotsUpTo(to) - slotsUpTo(from);
}

/** One frame's plaintext of standalone cells and whole messages, in order (tests, fuzz seeds, tools). */
export function encodeCells(items: ReadonlyArray<Cell | Uint8Array>): Uint8Array {
  const slots = items.reduce((n, x) => n + (x instanceof Uint8Array ? messageCellCount(x) : 1), 0);
  const out = new Uint8Array(slots * CELL_LEN);
  let at = 0;
  for (const x of items) {
    if (x instanceof Uint8Array) {
      writeMessageCells(x, 0, out, at, messageCellCount(x));
      at += messageCellCount(x) * CELL_LEN;
    } else {
      writeCell(out, at, x);
      at += CELL_LEN;
    }
  }
  return out;
}

/**
 * Reads frames' plaintexts, one after another, for one link: hands every whole message to
 * `onMessage` (a buffer of its own, the receiver's to keep) and every other cell to `onCell` (read
 * in place: `plain` is the caller's and is reused after the call). Either callback returns false to
 * stop (the link closed). A message's run may go on in the next frame; the reader remembers it.
 */
export class CellReader {
  private message: Uint8Array | null = null; // the message whose run goes on in the next frame
  private have = 0;

  /** Whether a message's run is cut and awaits the next frame. */
  get pending(): boolean {
    return this.message !== null;
  }

  /** Checks and reads one frame's plaintext; returns its number of slots. Throws LinkError. */
  read(
    plain: Uint8Array,
    onMessage: (message: Uint8Array) => boolean,
    onCell: (circId: number, command: number, plain: Uint8Array, at: number) => boolean,
  ): number {
    const end = plain.length;
    if (end === 0 || end % CELL_LEN !== 0) {
      throw new LinkError('BAD_FRAME', `frame of ${end} bytes is not a whole number of cells`);
    }
    let at = 0;
    if (this.message !== null) {
      const m = this.message;
      const next = this.goOn(plain, 0);
      if (next < 0 || !onMessage(m)) return end / CELL_LEN;
      at = next;
    }
    while (at < end) {
      const command = plain[at + 4] as number;
      if (KNOWN[command] !== 1) throw new LinkError('BAD_CELL', `unknown cell command ${command}`);
      const circId = u32At(plain, at);
      if (command !== CellCommand.MESSAGE) {
        if (!onCell(circId, command, plain, at)) break;
        at += CELL_LEN;
        continue;
      }
      if (circId !== 0) throw new LinkError('BAD_CELL', 'MESSAGE cell on a circuit id');
      const b = at + CELL_HEADER_LEN;
      const len = u32At(plain, b);
      if (len === 0 || len > MAX_LINK_MESSAGE) throw new LinkError(len === 0 ? 'BAD_CELL' : 'TOO_LARGE', `link message of ${len} bytes`);
      const first = Math.min(len, MESSAGE_HEAD_DATA);
      const d = b + LENGTH_LEN;
      at += CELL_LEN;
      // Exact size; every byte is copied in before the message is handed over.
      const m = bytesToFill(len);
      m.set(plain.subarray(d, d + first), 0);
      if (first === len) {
        zeroed(plain, d + first, at);
        if (!onMessage(m)) break;
        continue;
      }
      this.message = m;
      this.have = first;
      const next = this.goOn(plain, at);
      if (next < 0 || !onMessage(m)) break;
      at = next;
    }
    return end / CELL_LEN;
  }

  /**
   * Copies the pending message's next bytes from the slots of `plain` that start at `at`; returns
   * the end of the run's last slot once the message is whole (its padding checked), else -1 (it
   * goes on in the next frame).
   */
  private goOn(plain: Uint8Array, at: number): number {
    const m = this.message as Uint8Array;
    const n = Math.min(m.length - this.have, plain.length - at);
    if (n > 0) m.set(plain.subarray(at, at + n), this.have);
    this.have += n;
    if (this.have < m.length) return -1;
    const slotEnd = at + Math.ceil(n / CELL_LEN) * CELL_LEN;
    zeroed(plain, at + n, slotEnd);
    this.message = null;
    this.have = 0;
    return slotEnd;
  }
}

const ZEROS = new Uint8Array(CELL_LEN);

/** Throws unless plain[from, to) (at most one slot) is all zeros; one native compare, not a loop per byte. */
function zeroed(plain: Uint8Array, from: number, to: number): void {
  if (to > from && Buffer.compare(plain.subarray(from, to), ZEROS.subarray(0, to - from)) !== 0) {
    throw new LinkError('BAD_CELL', 'non-zero padding after a link message');
  }
}
