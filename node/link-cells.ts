// Pure codec for what travels inside one Noise transport message on a link: a whole number of
// fixed-size cells (tor-spec §3: circuit id u32 ‖ command u8 ‖ 509-byte body). Link-level messages
// (the routing protocol's CBOR) larger than one body are split over MESSAGE cells and reassembled
// with a bound. Decoding is strict: a wrong length, an unknown command, or an oversize or malformed
// message is a LinkError, never a crash.

import { CELL_BODY_LEN, CELL_LEN, CellCommand, MAX_LINK_MESSAGE } from './constants.ts';
import { LinkError } from './link-errors.ts';

export interface Cell {
  circId: number;
  command: number;
  body: Uint8Array; // exactly CELL_BODY_LEN bytes
}

const KNOWN_COMMANDS = new Set<number>(Object.values(CellCommand));

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
    if (!KNOWN_COMMANDS.has(command)) throw new LinkError('BAD_CELL', `unknown cell command ${command}`);
    cells.push({ circId: dv.getUint32(o, false), command, body: plain.slice(o + 5, o + CELL_LEN) });
  }
  return cells;
}

// MESSAGE cell body: flags (u8: bit 0 = more fragments follow) ‖ length (u16) ‖ data ‖ zero padding.
const FRAG_HEADER = 3;
export const FRAGMENT_DATA_LEN = CELL_BODY_LEN - FRAG_HEADER; // 506

export function messageToCells(message: Uint8Array): Cell[] {
  if (message.length === 0 || message.length > MAX_LINK_MESSAGE) {
    throw new RangeError(`link message must be 1..${MAX_LINK_MESSAGE} bytes`);
  }
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

/** Reassembles MESSAGE cells into link messages; one instance per link, bounded in memory. */
export class MessageAssembler {
  private parts: Uint8Array[] = [];
  private size = 0;

  /** Feeds one MESSAGE cell; returns the whole message when its last fragment arrives. */
  push(cell: Cell): Uint8Array | undefined {
    const b = cell.body;
    if (cell.circId !== 0) throw new LinkError('BAD_CELL', 'MESSAGE cell on a circuit id');
    const flags = b[0] as number;
    const len = ((b[1] as number) << 8) | (b[2] as number);
    if (flags > 1 || len === 0 || len > FRAGMENT_DATA_LEN) throw new LinkError('BAD_CELL', 'malformed MESSAGE fragment');
    for (let i = FRAG_HEADER + len; i < CELL_BODY_LEN; i++) {
      if (b[i] !== 0) throw new LinkError('BAD_CELL', 'non-zero padding in MESSAGE fragment');
    }
    if (flags === 1 && len !== FRAGMENT_DATA_LEN) throw new LinkError('BAD_CELL', 'short non-final fragment');
    this.size += len;
    if (this.size > MAX_LINK_MESSAGE) throw new LinkError('TOO_LARGE', 'link message over the size limit');
    this.parts.push(b.subarray(FRAG_HEADER, FRAG_HEADER + len));
    if (flags === 1) return undefined;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.parts = [];
    this.size = 0;
    return out;
  }
}
