// An established link to one peer: Noise transport frames over a TCP socket, each frame a whole
// number of fixed-size cells (link-cells.ts). Sends are batched into frames per event-loop turn;
// a send buffer over its high-water mark sheds new messages (the routing layer's timeouts and
// backtracking absorb the loss) instead of growing without bound. Received cells are rate limited
// per peer (token bucket); a peer over its allowance, or one that sends anything malformed, is
// dropped with the reason. Idle links send a PADDING cell after a random 1.5–9.5 s of silence, so
// an observer of the link cannot tell idle from active by the absence of traffic alone.

import type { Socket } from 'node:net';
import type { Transport } from '../crypto/noise.ts';
import {
  CELL_BODY_LEN,
  CellCommand,
  IDLE_PADDING_MAX_MS,
  IDLE_PADDING_MIN_MS,
  MAX_CELLS_PER_FRAME,
  PEER_CELL_BURST,
  PEER_CELL_RATE,
  SEND_QUEUE_HIGH_WATER,
} from './constants.ts';
import { encodeFrame, type FrameReader } from './frame-reader.ts';
import { type Cell, decodeCells, encodeCells, MessageAssembler, messageToCells } from './link-cells.ts';
import { LinkError } from './link-errors.ts';
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

export class Link {
  readonly openedAt: number;
  readonly stats = { cellsIn: 0, cellsOut: 0, bytesIn: 0, bytesOut: 0, shed: 0 };
  private queue: Cell[] = [];
  private flushScheduled = false;
  private closed = false;
  private paddingTimer: NodeJS.Timeout | null = null;
  private readonly assembler = new MessageAssembler();
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
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
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

  /** Queues a link-level message (routing protocol); false if shed under backpressure or closed. */
  sendMessage(message: Uint8Array): boolean {
    return this.sendCells(messageToCells(message));
  }

  sendCells(cells: Cell[]): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength > this.policy.highWater) {
      this.stats.shed += cells.length;
      return false;
    }
    this.queue.push(...cells);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    return true;
  }

  close(reason: LinkError = new LinkError('CLOSED', 'closed locally')): void {
    if (this.closed) return;
    this.closed = true;
    if (this.paddingTimer) clearTimeout(this.paddingTimer);
    this.queue = [];
    this.transport.close();
    this.socket.destroy();
    this.events.onClose(this, reason);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_CELLS_PER_FRAME);
        const frame = encodeFrame(this.transport.encrypt(encodeCells(batch)));
        this.stats.cellsOut += batch.length;
        this.stats.bytesOut += frame.length;
        this.socket.write(frame);
      }
    } catch (e) {
      this.close(new LinkError('CLOSED', `send failed: ${(e as Error).message}`));
      return;
    }
    this.armPadding();
  }

  private armPadding(): void {
    if (this.paddingTimer) clearTimeout(this.paddingTimer);
    const { paddingMinMs: lo, paddingMaxMs: hi } = this.policy;
    this.paddingTimer = setTimeout(() => {
      this.sendCells([{ circId: 0, command: CellCommand.PADDING, body: new Uint8Array(CELL_BODY_LEN) }]);
    }, lo + this.policy.random01() * (hi - lo));
    this.paddingTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.stats.bytesIn += chunk.length;
    let frames: Uint8Array[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.close(e instanceof LinkError ? e : new LinkError('BAD_FRAME', String(e)));
      return;
    }
    for (const f of frames) if (!this.onFrame(f)) return;
  }

  /** Handles one frame; false once the link has been closed. */
  private onFrame(frame: Uint8Array): boolean {
    try {
      const cells = decodeCells(this.transport.decrypt(frame));
      if (!this.bucket.take(cells.length, this.policy.now())) {
        throw new LinkError('RATE_LIMITED', `peer exceeded ${this.policy.cellRate} cells/s`);
      }
      this.stats.cellsIn += cells.length;
      for (const cell of cells) {
        if (this.closed) return false;
        if (cell.command === CellCommand.PADDING) continue;
        if (cell.command === CellCommand.MESSAGE) {
          const m = this.assembler.push(cell);
          if (m) this.events.onMessage(this, m);
        } else {
          this.events.onCell(this, cell);
        }
      }
    } catch (e) {
      const reason =
        e instanceof LinkError ? e : new LinkError('BAD_FRAME', `undecryptable or malformed frame (${(e as Error).message})`);
      this.close(reason);
      return false;
    }
    return !this.closed;
  }
}
