// Drives the Noise XK link handshake (crypto/noise.ts) over a TCP socket, with a deadline and an
// AbortSignal. Each handshake message travels as one frame (u16 length ‖ message). Payloads:
//   message 1 (dialer → listener):  version (u8)                    — lets the listener refuse early
//   message 2 (listener → dialer):  version (u8) ‖ identity key (32)
//   message 3 (dialer → listener):  version (u8) ‖ identity key (32) — encrypted and authenticated
// Each side checks that the peer's identity key maps (crypto/link-key.ts) to the static key the
// handshake authenticated, so the peer's node id is proven, not claimed. Frames that arrive after
// message 3 are handed over with the transport, so a peer may pipeline its first cells.

import type { Socket } from 'node:net';
import { equalBytes } from '../crypto/bytes.ts';
import { linkPublicFromIdentity } from '../crypto/link-key.ts';
import { createInitiator, createResponder, type NoiseKeyPair, type Transport } from '../crypto/noise.ts';
import { encodeFrame, FrameReader } from './frame-reader.ts';
import { LinkError } from './link-errors.ts';

export const LINK_PROTOCOL_VERSION = 1;
const PROLOGUE = new TextEncoder().encode('umbra/link/v1');

export interface HandshakeResult {
  transport: Transport;
  peerIdentity: Uint8Array;
  reader: FrameReader;
  pending: Uint8Array[]; // frames already received after the handshake
}

interface Common {
  identityKey: Uint8Array; // our Ed25519 public key
  linkKey: NoiseKeyPair; // our X25519 static key (derived from the identity)
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Collects frames from a socket until the handshake is done; bounded by the FrameReader. */
class FrameQueue {
  readonly reader = new FrameReader();
  private frames: Uint8Array[] = [];
  private waiter: ((f: Uint8Array | LinkError) => void) | null = null;
  private failure: LinkError | null = null;
  private readonly onData = (chunk: Buffer) => {
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

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
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
    this.socket.off('data', this.onData);
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

function parsePayload(p: Uint8Array, withIdentity: boolean): Uint8Array | null {
  if (p.length !== (withIdentity ? 33 : 1)) throw new LinkError('HANDSHAKE_FAILED', 'malformed handshake payload');
  if (p[0] !== LINK_PROTOCOL_VERSION) throw new LinkError('HANDSHAKE_FAILED', `unsupported link version ${p[0]}`);
  return withIdentity ? p.slice(1) : null;
}

const payload = (identityKey?: Uint8Array): Uint8Array => {
  const out = new Uint8Array(identityKey ? 33 : 1);
  out[0] = LINK_PROTOCOL_VERSION;
  if (identityKey) out.set(identityKey, 1);
  return out;
};

/** Dialer side: we know the peer's identity key from its contact or descriptor. */
export function handshakeAsDialer(socket: Socket, c: Common & { peerIdentity: Uint8Array }): Promise<HandshakeResult> {
  const q = new FrameQueue(socket);
  return withDeadline(socket, c, q, async () => {
    const hs = createInitiator({ staticKey: c.linkKey, remoteStatic: linkPublicFromIdentity(c.peerIdentity), prologue: PROLOGUE });
    socket.write(encodeFrame(hs.writeMessage(payload())));
    const theirIdentity = parsePayload(hs.readMessage(await q.next()), true) as Uint8Array;
    if (!equalBytes(theirIdentity, c.peerIdentity)) throw new LinkError('HANDSHAKE_FAILED', 'peer named another identity');
    socket.write(encodeFrame(hs.writeMessage(payload(c.identityKey))));
    const transport = hs.split();
    return { transport, peerIdentity: c.peerIdentity, reader: q.reader, pending: q.detach() };
  });
}

/** Listener side: the dialer's identity is learned, and proven, from message 3. */
export function handshakeAsListener(socket: Socket, c: Common): Promise<HandshakeResult> {
  const q = new FrameQueue(socket);
  return withDeadline(socket, c, q, async () => {
    const hs = createResponder({ staticKey: c.linkKey, prologue: PROLOGUE });
    parsePayload(hs.readMessage(await q.next()), false);
    socket.write(encodeFrame(hs.writeMessage(payload(c.identityKey))));
    const peerIdentity = parsePayload(hs.readMessage(await q.next()), true) as Uint8Array;
    if (!equalBytes(linkPublicFromIdentity(peerIdentity), hs.remoteStatic)) {
      throw new LinkError('HANDSHAKE_FAILED', 'identity key does not match the authenticated static key');
    }
    const transport = hs.split();
    return { transport, peerIdentity, reader: q.reader, pending: q.detach() };
  });
}
