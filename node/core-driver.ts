// Drives the sans-IO routing core (routing/node-core.ts) with real time and real links: feeds it
// link events and messages, carries out its outputs (send over a link, dialing first when there
// is none; schedule its next tick; settle lookups), and re-signs our descriptor before it ages.
// Time is wall-clock ms, since descriptors carry timestamps that other nodes check.

import { toHex } from '../crypto/bytes.ts';
import { randomBytes } from '../crypto/random.ts';
import type { NodeIdentity } from '../crypto/identity.ts';
import { selfDescriptor, type NodeDescriptor } from '../routing/descriptor.ts';
import type { NodeId } from '../routing/keyspace.ts';
import { NodeCore } from '../routing/node-core.ts';
import type { FetchResult, InsertResult, LookupResult, Output } from '../routing/outputs.ts';
import type { BlockKind, BlockStore } from '../store/block-store.ts';
import type { LinkManager } from './link-manager.ts';
import type { Logger } from './log.ts';

const RESIGN_EVERY_MS = 60 * 60 * 1000;
const MAX_QUEUED_PER_PEER = 64; // messages waiting for a dial to finish
const MAX_DIALS_WAITING = 256;

export interface LookupOutcome {
  result: LookupResult;
  ms: number;
}

export class CoreDriver {
  readonly core: NodeCore;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  private resignTimer: NodeJS.Timeout | null = null;
  private readonly waiting = new Map<string, Uint8Array[]>(); // peer hex → queued messages
  private readonly lookups = new Map<string, { resolve: (o: LookupOutcome) => void; started: number }>();
  private readonly fetches = new Map<string, (r: FetchResult) => void>();
  private readonly inserts = new Map<string, (r: InsertResult) => void>();
  private stopped = false;
  joined = false;

  constructor(
    private readonly identity: NodeIdentity,
    private addresses: string[],
    private readonly links: LinkManager,
    private readonly log: Logger,
    store?: BlockStore,
  ) {
    const now = Date.now();
    this.core = new NodeCore(
      { self: selfDescriptor(identity, addresses, now), random: randomBytes, store },
      now,
    );
    this.resignTimer = setInterval(() => this.resign(), RESIGN_EVERY_MS);
    this.resignTimer.unref();
  }

  get self(): NodeDescriptor {
    return this.core.self;
  }

  bootstrap(descriptors: Uint8Array[]): void {
    this.apply(this.core.bootstrap(descriptors, Date.now()));
  }

  linkUp(peer: NodeId, peerDescriptor: Uint8Array): void {
    const now = Date.now();
    if (peerDescriptor.length > 0) this.apply(this.core.learn(peerDescriptor, now));
    this.apply(this.core.peerConnected(peer, now));
    this.flushWaiting(peer);
  }

  linkDown(peer: NodeId): void {
    this.apply(this.core.peerDisconnected(peer, Date.now()));
  }

  message(peer: NodeId, bytes: Uint8Array): void {
    this.apply(this.core.receive(peer, bytes, Date.now()));
  }

  lookup(key: Uint8Array): Promise<LookupOutcome> {
    const started = Date.now();
    const { requestId, outputs } = this.core.lookup(key, started);
    const p = new Promise<LookupOutcome>((resolve) => this.lookups.set(toHex(requestId), { resolve, started }));
    this.apply(outputs);
    return p;
  }

  /** Fetches one block by routing key through the overlay (verified at every hop). */
  fetchBlock(kind: BlockKind, routingKey: Uint8Array): Promise<FetchResult> {
    const { requestId, outputs } = this.core.fetchBlock(kind, routingKey, Date.now());
    const p = new Promise<FetchResult>((resolve) => this.fetches.set(toHex(requestId), resolve));
    this.apply(outputs);
    return p;
  }

  /** Inserts one block toward its routing key (`copies` of it, default policy.replicas); resolves with how many nodes stored it. */
  insertBlock(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, copies?: number, opts?: { verified?: boolean }): Promise<InsertResult> {
    const { requestId, outputs } = this.core.insertBlock(kind, routingKey, block, Date.now(), copies, opts);
    const p = new Promise<InsertResult>((resolve) => this.inserts.set(toHex(requestId), resolve));
    this.apply(outputs);
    return p;
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.resignTimer) clearInterval(this.resignTimer);
    for (const l of this.lookups.values()) l.resolve({ result: { ok: false, reason: 'TIMEOUT' }, ms: Date.now() - l.started });
    this.lookups.clear();
    for (const r of this.fetches.values()) r({ ok: false, reason: 'TIMEOUT' });
    this.fetches.clear();
    for (const r of this.inserts.values()) r({ ok: false, reason: 'TIMEOUT' });
    this.inserts.clear();
  }

  private resign(): void {
    this.core.setSelfDescriptor(selfDescriptor(this.identity, this.addresses, Date.now()));
  }

  private apply(outputs: Output[]): void {
    if (this.stopped) return;
    for (const o of outputs) {
      switch (o.kind) {
        case 'send':
          this.send(o.to, o.bytes);
          break;
        case 'wake':
          this.scheduleWake(o.at);
          break;
        case 'lookupDone': {
          const key = toHex(o.requestId);
          const l = this.lookups.get(key);
          if (l) {
            this.lookups.delete(key);
            l.resolve({ result: o.result, ms: Date.now() - l.started });
          }
          break;
        }
        case 'fetchDone':
          this.settle(this.fetches, o.requestId, o.result);
          break;
        case 'insertDone':
          this.settle(this.inserts, o.requestId, o.result);
          break;
        case 'joined':
          this.joined = true;
          this.log.info('joined the network', { peers: o.peers });
          break;
      }
    }
  }

  private settle<R>(map: Map<string, (r: R) => void>, requestId: Uint8Array, result: R): void {
    const key = toHex(requestId);
    const resolve = map.get(key);
    if (resolve) {
      map.delete(key);
      resolve(result);
    }
  }

  private send(to: NodeId, bytes: Uint8Array): void {
    if (this.links.send(to, bytes)) return;
    const key = toHex(to);
    const q = this.waiting.get(key);
    if (q) {
      if (q.length < MAX_QUEUED_PER_PEER) q.push(bytes);
      return;
    }
    const entry = this.core.table.get(to);
    const addr = entry?.desc.addresses[0];
    if (!entry || !addr || this.waiting.size >= MAX_DIALS_WAITING) {
      queueMicrotask(() => this.apply(this.core.peerDisconnected(to, Date.now())));
      return;
    }
    this.waiting.set(key, [bytes]);
    const colon = addr.lastIndexOf(':');
    const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
    this.links
      .dial({ identityKey: entry.desc.identityKey, host, port: Number(addr.slice(colon + 1)) })
      .then(() => this.flushWaiting(to))
      .catch((e: unknown) => {
        this.waiting.delete(key);
        this.log.debug('dial failed', { peer: key.slice(0, 16), addr, reason: (e as Error).message });
        this.apply(this.core.peerDisconnected(to, Date.now()));
      });
  }

  private flushWaiting(peer: NodeId): void {
    const key = toHex(peer);
    const q = this.waiting.get(key);
    if (!q) return;
    this.waiting.delete(key);
    for (const m of q) this.links.send(peer, m);
  }

  private scheduleWake(at: number): void {
    if (!Number.isFinite(at)) return;
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      // The timer runs on a monotonic clock and the core on the wall clock: if the wall clock says
      // the wake has not come (it was set back), wait out the rest, since the core announces a wake
      // only once (it counts on this one firing at or after `at`).
      if (Date.now() < at) return this.scheduleWake(at);
      this.apply(this.core.tick(Date.now()));
    }, Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)));
  }
}
