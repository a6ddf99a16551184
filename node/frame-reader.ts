// Pure, bounded parser of a link's byte stream into frames: u16 big-endian length ‖ that many
// bytes (a Noise message, at most 65535 bytes). Socket chunks of any size go in; whole frames come
// out as fresh copies (push), or as views handed to a callback that consumes them at once (each,
// the link's path: it decrypts each frame into a fresh buffer, so copying it first would be waste).
// A partial frame is held in one fixed buffer, so a peer that trickles one byte at a time costs
// O(n) work, not O(n²), and memory per link never exceeds one frame.

import { LinkError } from './link-errors.ts';

export class FrameReader {
  private readonly pending: Uint8Array;
  private have = 0; // bytes of the current partial frame (length prefix included) in `pending`

  constructor(private readonly maxFrame = 65535) {
    this.pending = new Uint8Array(maxFrame + 2);
  }

  /** Feeds bytes; returns every complete frame, each a fresh copy. Throws LinkError BAD_FRAME on a bad length. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    this.each(chunk, (f) => {
      frames.push(copyOf(f));
      return true;
    });
    return frames;
  }

  /**
   * Feeds bytes and hands each complete frame to `onFrame` as it is found, without copying: the
   * frame is a view into `chunk` or into this reader's buffer, valid only during the call (the
   * link decrypts it into a fresh buffer at once). Stops early when `onFrame` returns false; the
   * rest of the chunk is dropped (the link is closing). Throws LinkError BAD_FRAME on a bad length.
   */
  each(chunk: Uint8Array, onFrame: (frame: Uint8Array) => boolean): void {
    let o = 0;
    while (o < chunk.length) {
      if (this.have < 2) {
        const n = Math.min(2 - this.have, chunk.length - o);
        this.pending.set(chunk.subarray(o, o + n), this.have);
        this.have += n;
        o += n;
        if (this.have < 2) break;
        const len = this.frameLen();
        if (len === 0 || len > this.maxFrame) throw new LinkError('BAD_FRAME', `frame length ${len} out of bounds`);
      }
      const need = this.frameLen() + 2 - this.have;
      const n = Math.min(need, chunk.length - o);
      let frame: Uint8Array | null = null;
      if (this.have === 2 && n === need) {
        frame = chunk.subarray(o, o + n); // whole frame in this chunk
      } else {
        this.pending.set(chunk.subarray(o, o + n), this.have);
        this.have += n;
        if (n === need) frame = this.pending.subarray(2, this.have);
      }
      o += n;
      if (n === need) this.have = 0;
      if (frame !== null && !onFrame(frame)) return;
    }
  }

  private frameLen(): number {
    return ((this.pending[0] as number) << 8) | (this.pending[1] as number);
  }

  get buffered(): number {
    return this.have;
  }
}

// A plain Uint8Array copy (Buffer#slice would return a view into the socket's memory).
function copyOf(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length === 0 || payload.length > 65535) throw new RangeError('frame payload must be 1..65535 bytes');
  const out = new Uint8Array(payload.length + 2);
  out[0] = payload.length >>> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}
