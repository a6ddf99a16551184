// Owns every link of a node: the TCP listener, dialing (with exponential backoff per peer), and the
// bounds that keep a flood from growing memory: at most MAX_PENDING_HANDSHAKES unauthenticated
// connections, at most MAX_LINKS links, new connections per remote address rate limited. One link
// per peer: when both sides dial at once, the link dialed by the node with the smaller id wins
// and the other is closed. The rest of the node sees authenticated peers only (their node ids).

import net from 'node:net';
import { toHex } from '../crypto/bytes.ts';
import { nodeIdOf } from '../crypto/identity.ts';
import type { NoiseKeyPair } from '../crypto/noise.ts';
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_LINKS,
  MAX_PENDING_HANDSHAKES,
  RECONNECT_BASE_MS,
  RECONNECT_MAX_MS,
} from './constants.ts';
import type { Cell } from './link-cells.ts';
import { LinkError } from './link-errors.ts';
import { dialSocket } from './socket-reads.ts';
import { handshakeAsDialer, handshakeAsListener, type HandshakeResult } from './link-handshake.ts';
import { defaultLinkPolicy, Link, type LinkPolicy } from './link.ts';
import type { Logger } from './log.ts';
import { backoffDelay, TokenBucket } from './token-bucket.ts';

export interface LinkManagerOptions {
  identityKey: Uint8Array;
  nodeId: Uint8Array;
  linkKey: NoiseKeyPair;
  /** Our current signed descriptor, sent in the link handshake (re-signed over time). */
  descriptor?: () => Uint8Array;
  log: Logger;
  maxLinks?: number;
  maxPending?: number;
  handshakeTimeoutMs?: number;
  linkPolicy?: Partial<LinkPolicy>;
  /** A new link; `peerDescriptor` is what the peer sent in the handshake, unchecked (may be empty). */
  onLinkUp(peerId: Uint8Array, link: Link, peerDescriptor: Uint8Array): void;
  onLinkDown(peerId: Uint8Array, reason: LinkError): void;
  onMessage(peerId: Uint8Array, message: Uint8Array): void;
  onCell?(peerId: Uint8Array, cell: Cell): void;
}

export interface DialTarget {
  identityKey: Uint8Array;
  host: string;
  port: number;
}

interface Backoff {
  attempt: number;
  notBefore: number;
}

// New connections per second per remote address. Generous, since a whole devnet shares 127.0.0.1;
// the bound on pending handshakes is what caps a flood.
const CONNECT_RATE_PER_ADDR = 50;
const CONNECT_BURST_PER_ADDR = 200;
const MAX_TRACKED_ADDRS = 4096;

export class LinkManager {
  private readonly links = new Map<string, Link>(); // by peer id hex
  private readonly dialing = new Map<string, Promise<Link>>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly perAddr = new Map<string, TokenBucket>();
  private readonly server = net.createServer((s) => this.accept(s));
  private pending = 0;
  private readonly logBucket = new TokenBucket(2, 20, Date.now()); // drop-reason lines: 2/s, burst 20
  private suppressed = 0;
  private closed = false;
  private readonly policy: LinkPolicy;
  readonly stats = { accepted: 0, refused: 0, handshakeFailures: 0, dropped: 0 };

  constructor(private readonly opts: LinkManagerOptions) {
    this.policy = { ...defaultLinkPolicy(), ...opts.linkPolicy };
    this.server.maxConnections = (opts.maxLinks ?? MAX_LINKS) + (opts.maxPending ?? MAX_PENDING_HANDSHAKES);
    this.server.on('drop', () => this.stats.refused++); // over maxConnections: closed by Node itself
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  get(peerId: Uint8Array): Link | undefined {
    return this.links.get(toHex(peerId));
  }

  all(): Link[] {
    return [...this.links.values()];
  }

  send(peerId: Uint8Array, message: Uint8Array): boolean {
    return this.links.get(toHex(peerId))?.sendMessage(message) ?? false;
  }

  /** A link to the target, reusing a live one; rejects while the peer is in backoff. */
  dial(target: DialTarget): Promise<Link> {
    const id = nodeIdOf(target.identityKey);
    const key = toHex(id);
    const live = this.links.get(key);
    if (live?.isOpen) return Promise.resolve(live);
    const inFlight = this.dialing.get(key);
    if (inFlight) return inFlight;
    const b = this.backoff.get(key);
    if (b && b.notBefore > Date.now()) {
      return Promise.reject(new LinkError('OVERLOADED', `peer in backoff for ${b.notBefore - Date.now()} ms`));
    }
    const p = this.connect(target, id).finally(() => this.dialing.delete(key));
    this.dialing.set(key, p);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.links.values()) l.close(new LinkError('CLOSED', 'node shutting down'));
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async connect(target: DialTarget, id: Uint8Array): Promise<Link> {
    const key = toHex(id);
    const socket = dialSocket(target.host, target.port); // reads through `onread` (socket-reads.ts)
    socket.on('error', () => {}); // reported through the handshake's rejection
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new LinkError('HANDSHAKE_TIMEOUT', 'connect timed out')), this.timeout());
        socket.once('connect', () => (clearTimeout(t), resolve()));
        socket.once('error', (e) => (clearTimeout(t), reject(new LinkError('CLOSED', `connect failed: ${e.message}`))));
      });
      const hs = await handshakeAsDialer(socket, { ...this.common(), peerIdentity: target.identityKey });
      this.backoff.delete(key);
      return this.adopt(socket, hs, id, true);
    } catch (e) {
      socket.destroy();
      const b = this.backoff.get(key) ?? { attempt: 0, notBefore: 0 };
      b.notBefore = Date.now() + backoffDelay(b.attempt++, RECONNECT_BASE_MS, RECONNECT_MAX_MS, Math.random());
      this.backoff.set(key, b);
      if (this.backoff.size > MAX_TRACKED_ADDRS) this.backoff.delete(this.backoff.keys().next().value as string);
      throw e instanceof LinkError ? e : new LinkError('CLOSED', String(e));
    }
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    const addr = socket.remoteAddress ?? '?';
    if (this.closed || this.pending >= (this.opts.maxPending ?? MAX_PENDING_HANDSHAKES) || !this.allowAddr(addr)) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    this.pending++;
    handshakeAsListener(socket, this.common())
      .then((hs) => {
        const link = this.adopt(socket, hs, nodeIdOf(hs.peerIdentity), false);
        this.stats.accepted++;
        return link;
      })
      .catch((e: unknown) => {
        this.stats.handshakeFailures++;
        this.logDrop('inbound handshake failed; connection dropped', addr, e);
        socket.destroy();
      })
      .finally(() => this.pending--);
  }

  private adopt(socket: net.Socket, hs: HandshakeResult, id: Uint8Array, initiator: boolean): Link {
    const key = toHex(id);
    if (key === toHex(this.opts.nodeId)) {
      socket.destroy();
      throw new LinkError('HANDSHAKE_FAILED', 'connected to ourselves');
    }
    const existing = this.links.get(key);
    if (existing?.isOpen) {
      // Simultaneous dial: keep the link that the smaller node id dialed, on both sides alike.
      const weDialedExisting = existing.initiator;
      const keepExisting = (toHex(this.opts.nodeId) < key) === weDialedExisting;
      if (keepExisting) {
        socket.destroy();
        return existing;
      }
    }
    if (!existing?.isOpen && this.links.size >= (this.opts.maxLinks ?? MAX_LINKS)) {
      socket.destroy();
      throw new LinkError('OVERLOADED', 'link limit reached');
    }
    const link = new Link(
      socket,
      hs.transport,
      hs.reader,
      hs.peerIdentity,
      id,
      initiator,
      {
        onMessage: (l, m) => this.opts.onMessage(l.peerId, m),
        onCell: (l, c) => this.opts.onCell?.(l.peerId, c),
        onClose: (l, reason) => {
          if (this.links.get(key) !== l) return; // a replaced duplicate
          this.links.delete(key);
          if (reason.code !== 'CLOSED') this.stats.dropped++;
          this.opts.log.info('link down', { peer: key.slice(0, 16), reason: `${reason.code}: ${reason.message}` });
          this.opts.onLinkDown(id, reason);
        },
      },
      this.policy,
      hs.peerDescriptor,
    );
    const previous = existing?.isOpen ? existing : undefined;
    this.links.set(key, link);
    previous?.close(new LinkError('CLOSED', 'replaced by a simultaneous link'));
    if (!previous) {
      this.opts.log.info('link up', { peer: key.slice(0, 16), dir: initiator ? 'out' : 'in', addr: link.remoteAddress });
      this.opts.onLinkUp(id, link, hs.peerDescriptor);
    }
    for (const f of hs.pending) link.injectFrame(f);
    return link;
  }

  /** One log line per dropped peer, rate limited so that a flood cannot flood the log too. */
  private logDrop(what: string, addr: string, e: unknown): void {
    if (!this.logBucket.take(1, Date.now())) {
      this.suppressed++;
      return;
    }
    const reason = e instanceof LinkError ? `${e.code}: ${e.message}` : String(e);
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.opts.log.info(what, { from: addr, reason, ...extra });
  }

  private allowAddr(addr: string): boolean {
    let b = this.perAddr.get(addr);
    if (!b) {
      if (this.perAddr.size >= MAX_TRACKED_ADDRS) this.perAddr.delete(this.perAddr.keys().next().value as string);
      b = new TokenBucket(CONNECT_RATE_PER_ADDR, CONNECT_BURST_PER_ADDR, Date.now());
      this.perAddr.set(addr, b);
    }
    return b.take(1, Date.now());
  }

  private timeout(): number {
    return this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  private common() {
    return {
      identityKey: this.opts.identityKey,
      linkKey: this.opts.linkKey,
      descriptor: this.opts.descriptor?.(),
      timeoutMs: this.timeout(),
    };
  }
}
