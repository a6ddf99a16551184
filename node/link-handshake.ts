// Drives the Noise XK link handshake (crypto/noise.ts) over a TCP socket, with a deadline and an
// AbortSignal. Each handshake message travels as one frame (u16 length ‖ message). Payloads:
//   message 1 (dialer → listener):  version (u8)          — lets the listener refuse early
//   message 2 (listener → dialer):  version (u8) ‖ identity key (32) ‖ signed descriptor (0..2048)
//   message 3 (dialer → listener):  version (u8) ‖ identity key (32) ‖ signed descriptor (0..2048)
// Each side checks that the peer's identity key maps (crypto/link-key.ts) to the static key the
// handshake authenticated, so the peer's node id is proven, not claimed. The descriptor (routing/
// descriptor.ts) is handed up unchecked; the node checks it before use. Frames that arrive after
// message 3 are handed over with the transport, so a peer may pipeline its first cells.

import type { Socket } from 'node:net';
import { equalBytes } from '../crypto/bytes.ts';
import { linkPublicFromIdentity } from '../crypto/link-key.ts';
import { createInitiator, createResponder, type NoiseKeyPair, type Transport } from '../crypto/noise.ts';
import { encodeFrame, FrameReader } from './frame-reader.ts';
import { LinkError } from './link-errors.ts';
import { onReads } from './socket-reads.ts';

export const LINK_PROTOCOL_VERSION = 1;
const PROLOGUE = new TextEncoder().encode('umbra/link/v1');

export const MAX_HANDSHAKE_DESCRIPTOR = 2048;

export interface HandshakeResult {
  transport: Transport;
  peerIdentity: Uint8Array;
  peerDescriptor: Uint8Array; // unchecked; may be empty
  reader: FrameReader;
  pending: Uint8Array[]; // frames already received after the handshake
}

interface Common {
  identityKey: Uint8Array; // our Ed25519 public key
  linkKey: NoiseKeyPair; // our X25519 static key (derived from the identity)
  descriptor?: Uint8Array; // our signed descriptor, sent in messages 2/3
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Collects frames from a socket until the handshake is done; bounded by the FrameReader. */
class FrameQueue {
  readonly reader = new FrameReader();
  private frames: Uint8Array[] = [];
  private waiter: ((f: Uint8Array | LinkError) => void) | null = null;
  private failure: LinkError | null = null;
  private readonly onData = (chunk: Uint8Array) => {
    try {
      this.frames.push(...this.reader.push(chunk));
    } catch (e) {
      this.fail(e instanceof LinkError ? e : new LinkError('BAD_FRAME', String(e)));
      return;
    }
    if (this.frames.length > 4) this.fail(new LinkError('HANDSHAKE_FAILED', 'peer flooded the handshake'));
    this.wake();
  };
  private readonly onEnd = () => this.fail(new LinkError('CLOSED', 'connection closed during handshake'));

  private readonly stopReads: () => void;

  constructor(private readonly socket: Socket) {
    this.stopReads = onReads(socket, this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
  }

  fail(e: LinkError): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.failure) {
      this.waiter = null;
      w(this.failure);
    } else if (this.frames.length > 0) {
      this.waiter = null;
      w(this.frames.shift() as Uint8Array);
    }
  }

  next(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.waiter = (f) => (f instanceof LinkError ? reject(f) : resolve(f));
      this.wake();
    });
  }

  detach(): Uint8Array[] {
    this.stopReads();
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    const rest = this.frames;
    this.frames = [];
    return rest;
  }
}

async function withDeadline<T>(socket: Socket, c: Common, q: FrameQueue, body: () => Promise<T>): Promise<T> {
  const timer = setTimeout(() => q.fail(new LinkError('HANDSHAKE_TIMEOUT', `no handshake within ${c.timeoutMs} ms`)), c.timeoutMs);
  const onAbort = () => q.fail(new LinkError('CLOSED', 'handshake aborted'));
  c.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (c.signal?.aborted) throw new LinkError('CLOSED', 'handshake aborted');
    return await body();
  } catch (e) {
    q.detach();
    if (e instanceof LinkError) throw e;
    throw new LinkError('HANDSHAKE_FAILED', `handshake failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    c.signal?.removeEventListener('abort', onAbort);
  }
}

function parsePayload(p: Uint8Array): { identity: Uint8Array; descriptor: Uint8Array } {
  if (p.length < 33 || p.length > 33 + MAX_HANDSHAKE_DESCRIPTOR) throw new LinkError('HANDSHAKE_FAILED', 'malformed handshake payload');
  if (p[0] !== LINK_PROTOCOL_VERSION) throw new LinkError('HANDSHAKE_FAILED', `unsupported link version ${p[0]}`);
  return { identity: p.slice(1, 33), descriptor: p.slice(33) };
}

function checkHello(p: Uint8Array): void {
  if (p.length !== 1) throw new LinkError('HANDSHAKE_FAILED', 'malformed handshake payload');
  if (p[0] !== LINK_PROTOCOL_VERSION) throw new LinkError('HANDSHAKE_FAILED', `unsupported link version ${p[0]}`);
}

const HELLO = Uint8Array.of(LINK_PROTOCOL_VERSION);

function payload(c: Common): Uint8Array {
  const d = c.descriptor ?? new Uint8Array(0);
  if (d.length > MAX_HANDSHAKE_DESCRIPTOR) throw new RangeError('descriptor too large for the handshake');
  const out = new Uint8Array(33 + d.length);
  out[0] = LINK_PROTOCOL_VERSION;
  out.set(c.identityKey, 1);
  out.set(d, 33);
  return out;
}

/** Dialer side: we know the peer's identity key from its contact or descriptor. */
export function handshakeAsDialer(socket: Socket, c: Common & { peerIdentity: Uint8Array }): Promise<HandshakeResult> {
  const q = new FrameQueue(socket);
  return withDeadline(socket, c, q, async () => {
    const hs = createInitiator({ staticKey: c.linkKey, remoteStatic: linkPublicFromIdentity(c.peerIdentity), prologue: PROLOGUE });
    socket.write(encodeFrame(hs.writeMessage(HELLO)));
    const theirs = parsePayload(hs.readMessage(await q.next()));
    if (!equalBytes(theirs.identity, c.peerIdentity)) throw new LinkError('HANDSHAKE_FAILED', 'peer named another identity');
    socket.write(encodeFrame(hs.writeMessage(payload(c))));
    const transport = hs.split();
    return { transport, peerIdentity: c.peerIdentity, peerDescriptor: theirs.descriptor, reader: q.reader, pending: q.detach() };
  });
}

/** Listener side: the dialer's identity is learned, and proven, from message 3. */
export function handshakeAsListener(socket: Socket, c: Common): Promise<HandshakeResult> {
  const q = new FrameQueue(socket);
  return withDeadline(socket, c, q, async () => {
    const hs = createResponder({ staticKey: c.linkKey, prologue: PROLOGUE });
    checkHello(hs.readMessage(await q.next()));
    socket.write(encodeFrame(hs.writeMessage(payload(c))));
    const theirs = parsePayload(hs.readMessage(await q.next()));
    if (!equalBytes(linkPublicFromIdentity(theirs.identity), hs.remoteStatic)) {
      throw new LinkError('HANDSHAKE_FAILED', 'identity key does not match the authenticated static key');
    }
    const transport = hs.split();
    return { transport, peerIdentity: theirs.identity, peerDescriptor: theirs.descriptor, reader: q.reader, pending: q.detach() };
  });
}
