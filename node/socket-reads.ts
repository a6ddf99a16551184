// Reading a link's socket. A socket we dial is opened with Node's `onread` option: the kernel's
// bytes land in one reused 256 KiB buffer and go straight to a callback, with no stream machinery
// and no fresh buffer per read (a 'data' event costs both, per 64 KiB read). Node offers this only
// for sockets it connects, not for ones a server accepts, so accepted sockets keep 'data' events.
// The handshake and then the link read through onReads(), which picks the way the socket has.
//
// The buffer is shared by every dialed socket: libuv reads one socket at a time on the event-loop
// thread and each callback consumes its bytes before it returns (the frame reader copies what it
// keeps), so no read can overwrite bytes still in use.

import net from 'node:net';

const READ_BUFFER_LEN = 256 * 1024;
let shared: Buffer | null = null;

type Handler = (chunk: Uint8Array) => void;

/** A dialed socket's reads, handed to whoever reads the socket now (the handshake, then the link). */
class ReadTap {
  private handler: Handler | null = null;
  private held: Uint8Array[] = []; // copies of reads that came while nobody listened

  readonly callback = (n: number, buf: Uint8Array): boolean => {
    const chunk = buf.subarray(0, n);
    if (this.handler !== null) this.handler(chunk);
    else this.held.push(chunk.slice()); // the buffer is reused by the next read
    return true;
  };

  listen(h: Handler): void {
    this.handler = h;
    while (this.held.length > 0 && this.handler === h) h(this.held.shift() as Uint8Array);
  }

  stop(h: Handler): void {
    if (this.handler === h) this.handler = null;
  }
}

const taps = new WeakMap<net.Socket, ReadTap>();

/** net.connect, reading through a shared buffer (see the header). */
export function dialSocket(host: string, port: number): net.Socket {
  const tap = new ReadTap();
  shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_LEN);
  const socket = net.connect({ host, port, onread: { buffer: shared, callback: tap.callback } });
  taps.set(socket, tap);
  return socket;
}

/**
 * Hands every chunk the socket reads to `handler` (valid only during the call: copy what you keep);
 * returns the function that stops it. The handshake hands a socket over to its link within one
 * turn of the event loop, so no read comes in between; a dialed socket's tap would keep one anyway.
 */
export function onReads(socket: net.Socket, handler: Handler): () => void {
  const tap = taps.get(socket);
  if (tap !== undefined) {
    tap.listen(handler);
    return () => tap.stop(handler);
  }
  socket.on('data', handler);
  return () => socket.off('data', handler);
}
