// An established link to one peer: Noise transport frames over a TCP socket, each frame a whole
// number of fixed-size cells (link-cells.ts). Sends are batched into frames per event-loop turn;
// a send buffer over its high-water mark sheds new messages (the routing layer's timeouts and
// backtracking absorb the loss) instead of growing without bound. Received cells are rate limited
// per peer (token bucket); a peer over its allowance, or one that sends anything malformed, is
// dropped with the reason. Idle links send a PADDING cell after a random 1.5–9.5 s of silence, so
// an observer of the link cannot tell idle from active by the absence of traffic alone.

import type { Socket } from 'node:net';
import { Transport } from '../crypto/noise.ts';
import {
  CELL_BODY_LEN,
  CELL_HEADER_LEN,
  CELL_LEN,
  CellCommand,
  FRAME_LEN_PREFIX,
  IDLE_PADDING_MAX_MS,
  IDLE_PADDING_MIN_MS,
  MAX_CELLS_PER_FRAME,
  NOISE_TAG_LEN,
  PEER_CELL_BURST,
  PEER_CELL_RATE,
  SEND_QUEUE_HIGH_WATER,
} from './constants.ts';
import type { FrameReader } from './frame-reader.ts';
import { type Cell, CellReader, messageCellCount, messageSlotsBetween, writeCell, writeMessageCells } from './link-cells.ts';
import { LinkError } from './link-errors.ts';
import { onReads } from './socket-reads.ts';
import { TokenBucket } from './token-bucket.ts';

export interface LinkEvents {
  onMessage(link: Link, message: Uint8Array): void;
  onCell(link: Link, cell: Cell): void;
  onClose(link: Link, reason: LinkError): void;
}

export interface LinkPolicy {
  cellRate: number;
  cellBurst: number;
  highWater: number;
  paddingMinMs: number;
  paddingMaxMs: number;
  random01: () => number;
  now: () => number;
}

export const defaultLinkPolicy = (): LinkPolicy => ({
  cellRate: PEER_CELL_RATE,
  cellBurst: PEER_CELL_BURST,
  highWater: SEND_QUEUE_HIGH_WATER,
  paddingMinMs: IDLE_PADDING_MIN_MS,
  paddingMaxMs: IDLE_PADDING_MAX_MS,
  random01: Math.random,
  now: () => performance.now(),
});

/** A queued link message: its run of slots is written straight into frames, from byte `off` on. */
interface QueuedMessage {
  message: Uint8Array;
  off: number;
}

// One frame's plaintext, shared by every link: flush fills it, encrypts it into the flush's buffer
// and is done with it before returning (single-threaded, synchronous), so no link needs its own.
const framePlain = new Uint8Array(MAX_CELLS_PER_FRAME * CELL_LEN);
// And one for received frames: onFrame decrypts into it and reads every cell out before it returns
// (messages are copied into buffers of their own; other cells are sliced out).
const framePlainIn = new Uint8Array(Transport.MAX_PLAINTEXT);
/** The smallest flush buffer a link allocates (one full frame), so one buffer serves most flushes again and again. */
const WIRE_SPARE_MIN = FRAME_LEN_PREFIX + MAX_CELLS_PER_FRAME * CELL_LEN + NOISE_TAG_LEN;

export class Link {
  readonly openedAt: number;
  readonly stats = { cellsIn: 0, cellsOut: 0, bytesIn: 0, bytesOut: 0, shed: 0 };
  private queue: Array<Cell | QueuedMessage> = []; // in send order; queue[head] is the next
  private head = 0;
  private queuedCells = 0;
  private flushScheduled = false;
  private closed = false;
  private paddingTimer: NodeJS.Timeout | null = null;
  private paddingDue = 0; // policy.now() at which an idle link sends a PADDING cell
  private readonly cells = new CellReader();
  private spareWire: Uint8Array | null = null; // the last flush's buffer, once the socket has let go of it
  /** Hands a whole message up; false once that closed the link (the reader stops there). */
  private readonly deliver = (m: Uint8Array): boolean => {
    this.events.onMessage(this, m);
    return !this.closed;
  };
  /** Hands any other cell up (its body copied out: the frame's plaintext is shared); PADDING is dropped. */
  private readonly deliverCell = (circId: number, command: number, plain: Uint8Array, at: number): boolean => {
    if (command !== CellCommand.PADDING) {
      this.events.onCell(this, { circId, command, body: plain.slice(at + CELL_HEADER_LEN, at + CELL_LEN) });
    }
    return !this.closed;
  };
  private readonly bucket: TokenBucket;

  constructor(
    private readonly socket: Socket,
    private readonly transport: Transport,
    private readonly reader: FrameReader,
    readonly peerIdentity: Uint8Array,
    readonly peerId: Uint8Array,
    readonly initiator: boolean,
    private readonly events: LinkEvents,
    private readonly policy: LinkPolicy = defaultLinkPolicy(),
    /** The peer's signed descriptor from the handshake, unchecked (may be empty). */
    readonly peerDescriptor: Uint8Array = new Uint8Array(0),
  ) {
    this.openedAt = policy.now();
    this.bucket = new TokenBucket(policy.cellRate, policy.cellBurst, policy.now());
    socket.setNoDelay(true);
    onReads(socket, (chunk) => this.onData(chunk));
    socket.on('error', (e) => this.close(new LinkError('CLOSED', `socket error: ${e.message}`)));
    socket.on('close', () => this.close(new LinkError('CLOSED', 'connection closed')));
    this.armPadding();
  }

  /** Processes a frame that arrived during the handshake (handed over with the transport). */
  injectFrame(frame: Uint8Array): void {
    if (!this.closed) this.onFrame(frame);
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Queues a link-level message (routing protocol); false if shed under backpressure or closed.
   * The bytes are read at the next flush, not copied now: callers hand over a buffer they no longer
   * change (the routing core encodes each message afresh). The flush runs at the end of this
   * event-loop iteration (setImmediate), so what the socket reads of one poll phase cause goes out
   * in as few frames (and system calls) as fit.
   */
  sendMessage(message: Uint8Array): boolean {
    const n = messageCellCount(message); // RangeError on an empty or oversize message
    return this.enqueue({ message, off: 0 }, n);
  }

  sendCells(cells: Cell[]): boolean {
    if (this.closed) return false;
    for (const c of cells) if (c.body.length !== CELL_BODY_LEN) throw new RangeError('cell body must be 509 bytes');
    if (this.socket.writableLength > this.policy.highWater) {
      this.stats.shed += cells.length;
      return false;
    }
    for (const c of cells) this.enqueue(c, 1);
    return true;
  }

  private enqueue(item: Cell | QueuedMessage, cells: number): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength > this.policy.highWater) {
      this.stats.shed += cells;
      return false;
    }
    this.queue.push(item);
    this.queuedCells += cells;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  close(reason: LinkError = new LinkError('CLOSED', 'closed locally')): void {
    if (this.closed) return;
    this.closed = true;
    if (this.paddingTimer) clearTimeout(this.paddingTimer);
    this.queue = [];
    this.head = 0;
    this.queuedCells = 0;
    this.transport.close();
    this.socket.destroy();
    this.events.onClose(this, reason);
  }

  /**
   * Sends everything queued: frames of up to MAX_CELLS_PER_FRAME cells, each cell written once into
   * the frame's plaintext and encrypted straight into one buffer that holds every frame of this
   * flush (length prefix ‖ ciphertext, …), handed to the socket in one write.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.queuedCells === 0) return;
    const frames = Math.ceil(this.queuedCells / MAX_CELLS_PER_FRAME);
    const total = this.queuedCells * CELL_LEN + frames * (FRAME_LEN_PREFIX + NOISE_TAG_LEN);
    const wire = this.wireBuffer(total); // every byte is written below
    let at = 0;
    try {
      while (this.queuedCells > 0) {
        const n = Math.min(MAX_CELLS_PER_FRAME, this.queuedCells);
        const plain = framePlain.subarray(0, n * CELL_LEN); // every byte is written below
        for (let done = 0; done < n; ) {
          const item = this.queue[this.head] as Cell | QueuedMessage;
          if ('message' in item) {
            const from = item.off;
            item.off = writeMessageCells(item.message, from, plain, done * CELL_LEN, n - done);
            done += messageSlotsBetween(from, item.off);
            if (item.off < item.message.length) continue;
          } else {
            writeCell(plain, done * CELL_LEN, item);
            done++;
          }
          this.head++;
        }
        this.queuedCells -= n;
        const sealedLen = plain.length + NOISE_TAG_LEN;
        wire[at] = sealedLen >>> 8;
        wire[at + 1] = sealedLen & 0xff;
        this.transport.encrypt(plain, undefined, wire.subarray(at + FRAME_LEN_PREFIX, at + FRAME_LEN_PREFIX + sealedLen));
        at += FRAME_LEN_PREFIX + sealedLen;
        this.stats.cellsOut += n;
        this.stats.bytesOut += FRAME_LEN_PREFIX + sealedLen;
      }
      this.queue = [];
      this.head = 0;
      if (at !== total) throw new Error(`framed ${at} bytes, expected ${total}`);
      this.socket.write(wire);
      // Written through at once (the usual case): the kernel has the bytes and nothing holds the
      // buffer, so the next flush may reuse it (if it is not an outsize one). Otherwise the socket
      // keeps it until sent.
      this.spareWire = this.socket.writableLength === 0 && wire.buffer.byteLength <= 2 * WIRE_SPARE_MIN ? wire : null;
    } catch (e) {
      this.close(new LinkError('CLOSED', `send failed: ${(e as Error).message}`));
      return;
    }
    this.armPadding();
  }

  /** A buffer of `n` bytes for a flush's frames: the spare one if it is free and big enough. */
  private wireBuffer(n: number): Uint8Array {
    const spare = this.spareWire;
    this.spareWire = null;
    if (spare !== null && spare.buffer.byteLength >= n) return new Uint8Array(spare.buffer, spare.byteOffset, n);
    const backing = Buffer.allocUnsafeSlow(Math.max(n, WIRE_SPARE_MIN));
    return new Uint8Array(backing.buffer, backing.byteOffset, n);
  }

  /**
   * Sets the next idle-padding moment: a fresh random 1.5–9.5 s after this send. Busy links call
   * this once per flush, so it only moves a deadline; the one timer per link checks the deadline
   * when it fires and sleeps again if traffic went out meanwhile (no timer churn per frame).
   */
  private armPadding(): void {
    const { paddingMinMs: lo, paddingMaxMs: hi } = this.policy;
    const now = this.policy.now();
    this.paddingDue = now + lo + this.policy.random01() * (hi - lo);
    if (this.paddingTimer === null) this.schedulePadding(this.paddingDue - now);
  }

  private schedulePadding(ms: number): void {
    this.paddingTimer = setTimeout(() => {
      this.paddingTimer = null;
      if (this.closed) return;
      const left = this.paddingDue - this.policy.now();
      if (left > 0) return this.schedulePadding(left);
      this.sendCells([{ circId: 0, command: CellCommand.PADDING, body: new Uint8Array(CELL_BODY_LEN) }]); // flush re-arms
    }, Math.max(0, ms));
    this.paddingTimer.unref();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesIn += chunk.length;
    try {
      this.reader.each(chunk, (f) => this.onFrame(f));
    } catch (e) {
      this.close(e instanceof LinkError ? e : new LinkError('BAD_FRAME', String(e)));
    }
  }

  /** Handles one frame (a view, consumed at once); false once the link has been closed. */
  private onFrame(frame: Uint8Array): boolean {
    try {
      const plain = this.transport.decrypt(frame, undefined, framePlainIn); // shared: read in place, done with before returning
      const count = plain.length / CELL_LEN; // the reader refuses a frame that is not whole cells
      if (!this.bucket.take(Math.ceil(count), this.policy.now())) {
        throw new LinkError('RATE_LIMITED', `peer exceeded ${this.policy.cellRate} cells/s`);
      }
      this.stats.cellsIn += this.cells.read(plain, this.deliver, this.deliverCell);
    } catch (e) {
      const reason =
        e instanceof LinkError ? e : new LinkError('BAD_FRAME', `undecryptable or malformed frame (${(e as Error).message})`);
      this.close(reason);
      return false;
    }
    return !this.closed;
  }
}
