// The sans-IO routing core of one node (DESIGN.md layer 3; STYLE.md habit 7): bytes and events in,
// bytes and events out, synchronous, no clock, no timers, no sockets. The driver (node/ over TCP,
// tools/sim over an in-memory network) feeds it:
//   receive(from, bytes, now)  a routing message from an authenticated neighbour
//   tick(now)                  at or after the time of the latest `wake` output
//   lookup(key, now)           start a key-routed request of our own
//   fetchBlock(kind, key, now) / insertBlock(kind, key, block, now)
//                              start a block request of our own (we are its originator)
//   bootstrap(contacts, now)   join through these descriptors
//   learn(descriptor, now)     a descriptor obtained out of band (a link handshake)
//   peerConnected/peerDisconnected(id, now)  link events
// and carries out the returned Outputs (routing/outputs.ts): send bytes, report finished lookups,
// fetches and inserts, schedule the next tick. The block store (store/block-store.ts) is injected;
// without one the node relays blocks but neither serves, caches nor stores any; the blocks it keeps
// are repaired (re-replicated) by routing/repair.ts from tick(). Time comes in as `now` (ms), randomness from the injected source,
// descriptors are checked by the injected reader, timeouts are the driver's RoutingPolicy.
// Malformed input is dropped silently (counted in stats), never answered, never thrown.

import { nodeBackend } from '../crypto/backend-node.ts';
import type { BlockKind, BlockStore } from '../store/block-store.ts';
import { verifyBlock } from '../store/block-verify.ts';
import { BLOCK_COPIES_MAX, WIRE_MAX_MESSAGE } from './constants.ts';
import { CoreContext } from './context.ts';
import { DescriptorCache, type DescriptorReader, type NodeDescriptor } from './descriptor.ts';
import { isRoutingError } from './errors.ts';
import { idEquals, isKey, type NodeId } from './keyspace.ts';
import { Membership, type MembershipStats } from './membership.ts';
import { decodeMessage, PURPOSES, type Purpose, type RoutingMessage } from './messages.ts';
import type { Output } from './outputs.ts';
import { resolvePolicy, type RoutingPolicy } from './policy.ts';
import { Repair, type RepairStats } from './repair.ts';
import { Router, type RouterStats } from './router.ts';
import type { RandomSource } from './runtime.ts';
import { RoutingTable, type TableOptions } from './table.ts';

export interface NodeCoreConfig {
  /** Our own checked descriptor (the driver signs it, and re-signs it with setSelfDescriptor). */
  self: NodeDescriptor;
  /** Runtime.randomBytes: request ids, nonces, refresh targets, the HTL start. */
  random: RandomSource;
  /** How peers' descriptors are decoded and checked; default: a DescriptorCache over node:crypto. */
  descriptors?: DescriptorReader;
  /** Timeouts and limits; the defaults of routing/policy.ts for what is left out. */
  policy?: Partial<RoutingPolicy>;
  table?: TableOptions;
  /** SHA-256, for the per-peer HTL decision; default nodeBackend.sha256. */
  hash?: (...parts: Uint8Array[]) => Uint8Array;
  /** Where this node keeps blocks it stores, caches and serves; none: a relay only. */
  store?: BlockStore;
}

export interface CoreStats extends RouterStats, MembershipStats, RepairStats {
  peers: number;
  banned: number; // peers evicted and banned for sending bad blocks
  activeRequests: number;
  activeLookups: number;
  dropped: number; // messages that did not decode
}

export class NodeCore {
  private readonly ctx: CoreContext;
  private readonly router: Router;
  private readonly repair: Repair;
  private readonly membership: Membership;
  private announcedWake = -Infinity;
  private dropped = 0;

  constructor(config: NodeCoreConfig, now: number) {
    const policy = resolvePolicy(config.policy);
    const table = new RoutingTable(config.self.id, config.table);
    this.ctx = new CoreContext(
      config.self,
      table,
      policy,
      config.random,
      config.descriptors ?? new DescriptorCache(),
      config.hash ?? nodeBackend.sha256,
    );
    this.repair = new Repair(this.ctx, config.store, now);
    this.router = new Router(this.ctx, config.store, this.repair);
    this.membership = new Membership(this.ctx, now);
  }

  get id(): NodeId {
    return this.ctx.self.id;
  }

  get self(): NodeDescriptor {
    return this.ctx.self;
  }

  get table(): RoutingTable {
    return this.ctx.table;
  }

  get policy(): Readonly<RoutingPolicy> {
    return this.ctx.policy;
  }

  /** A re-signed descriptor of ourselves (same identity, newer timestamp or new addresses). */
  setSelfDescriptor(desc: NodeDescriptor): void {
    if (!idEquals(desc.id, this.ctx.self.id)) throw new RangeError('setSelfDescriptor: a different identity');
    this.ctx.self = desc;
  }

  /** Joins the network through these contacts (descriptor bytes); emits `joined` when done. */
  bootstrap(contacts: readonly Uint8Array[], now: number): Output[] {
    return this.run(now, () => this.membership.bootstrap(contacts, now));
  }

  /**
   * Offers a descriptor the driver obtained out of band (a peer's, proven by its link handshake):
   * checked like any other, then offered to the table. Bad bytes are dropped and counted.
   */
  learn(descriptorBytes: Uint8Array, now: number): Output[] {
    return this.run(now, () => {
      if (this.membership.learn(descriptorBytes, now) === undefined) this.dropped++;
    });
  }

  /** Starts a key-routed lookup; its result comes as a `lookupDone` output with this request id. */
  lookup(
    key: Uint8Array,
    now: number,
    opts: { purpose?: Purpose; payload?: Uint8Array } = {},
  ): { requestId: Uint8Array; outputs: Output[] } {
    if (!isKey(key)) throw new TypeError('lookup: key must be 32 bytes');
    const purpose = opts.purpose ?? 'FIND_NODE';
    if (!Object.hasOwn(PURPOSES, purpose)) throw new TypeError(`lookup: unknown purpose ${purpose}`);
    if (purpose !== 'FIND_NODE') throw new TypeError(`lookup: ${purpose} goes through fetchBlock/insertBlock`);
    let requestId: Uint8Array = new Uint8Array(0);
    const outputs = this.run(now, () => {
      requestId = this.router.start(key, now, purpose, opts.payload);
    });
    return { requestId, outputs };
  }

  /**
   * Starts a block fetch as its originator; the result comes as a `fetchDone` output with this
   * request id (a block held in our own store answers at once, with 0 hops). What it fetches is
   * never written to our own store.
   */
  fetchBlock(kind: BlockKind, routingKey: Uint8Array, now: number): { requestId: Uint8Array; outputs: Output[] } {
    checkKind(kind);
    if (!isKey(routingKey)) throw new TypeError('fetchBlock: routing key must be 32 bytes');
    let requestId: Uint8Array = new Uint8Array(0);
    const outputs = this.run(now, () => {
      requestId = this.router.start(routingKey, now, 'GET_BLOCK', undefined, { kind });
    });
    return { requestId, outputs };
  }

  /**
   * Starts a block insert as its originator; the result comes as an `insertDone` output (how many
   * nodes stored it). The block must verify under the key (RangeError otherwise: our own bug).
   * The originator keeps no copy in its own store. `copies` asks for that many copies instead of
   * policy.replicas (manifest blocks ask for more). `opts.verified`: the caller computed the key from
   * this very block just now (the insert pipeline's CHK encoding), so the check is not repeated.
   */
  insertBlock(
    kind: BlockKind,
    routingKey: Uint8Array,
    block: Uint8Array,
    now: number,
    copies?: number,
    opts: { verified?: boolean } = {},
  ): { requestId: Uint8Array; outputs: Output[] } {
    checkKind(kind);
    if (copies !== undefined && !(Number.isInteger(copies) && copies >= 1 && copies <= BLOCK_COPIES_MAX)) {
      throw new RangeError(`insertBlock: copies must be 1..${BLOCK_COPIES_MAX}`);
    }
    if (!isKey(routingKey)) throw new TypeError('insertBlock: routing key must be 32 bytes');
    if (opts.verified !== true && verifyBlock(kind, routingKey, block) === null) {
      throw new RangeError('insertBlock: the block does not match its routing key');
    }
    let requestId: Uint8Array = new Uint8Array(0);
    const outputs = this.run(now, () => {
      requestId = this.router.start(routingKey, now, 'PUT_BLOCK', undefined, { kind, block, copies });
    });
    return { requestId, outputs };
  }

  /** A message from a neighbour (whose id the link layer authenticated); `bytes` is handed over (decodeMessage keeps views into it). */
  receive(from: NodeId, bytes: Uint8Array, now: number): Output[] {
    return this.run(now, () => {
      if (!isKey(from) || bytes.length > WIRE_MAX_MESSAGE) {
        this.dropped++;
        return;
      }
      let m: RoutingMessage;
      try {
        m = decodeMessage(bytes);
      } catch (e) {
        if (!isRoutingError(e)) throw e;
        this.dropped++;
        return;
      }
      this.ctx.table.markSeen(from, now);
      this.dispatch(from, m, now);
    });
  }

  tick(now: number): Output[] {
    return this.run(now, () => {
      this.router.tick(now);
      this.membership.tick(now);
      this.repair.tick(now);
    });
  }

  peerConnected(id: NodeId, now: number): Output[] {
    return this.run(now, () => void this.ctx.table.markSeen(id, now));
  }

  peerDisconnected(id: NodeId, now: number): Output[] {
    return this.run(now, () => {
      this.router.peerDisconnected(id, now);
      this.membership.peerDisconnected(id, now);
    });
  }

  stats(): CoreStats {
    return {
      ...this.router.stats,
      ...this.membership.stats,
      ...this.repair.stats,
      peers: this.ctx.table.size,
      banned: this.ctx.table.bannedCount,
      activeRequests: this.router.activeRequests,
      activeLookups: this.membership.activeLookups,
      dropped: this.dropped,
    };
  }

  private dispatch(from: NodeId, m: RoutingMessage, now: number): void {
    switch (m.type) {
      case 'ROUTE':
        return this.router.onRoute(from, m, now);
      case 'ROUTE_ACCEPTED':
        return this.router.onAccepted(from, m, now);
      case 'ROUTE_REPLY':
        return this.router.onReply(from, m, now);
      case 'ROUTE_REJECT':
        return this.router.onReject(from, m, now);
      case 'BLOCK_REPLY':
        return this.router.onBlockReply(from, m, now);
      case 'PUT_REPLY':
        return this.router.onPutReply(from, m, now);
      case 'PEX_REQUEST':
        return this.membership.onPexRequest(from, m, now);
      case 'PEX_RESPONSE':
        return this.membership.onPexResponse(from, m, now);
      case 'HAVE':
        return this.repair.onHave(from, m, now);
      case 'HAVE_REPLY':
        return this.repair.onHaveReply(from, m, now);
      case 'PING':
        return this.membership.onPing(from, m);
      case 'PONG':
        return this.membership.onPong(from, m);
    }
  }

  /** Runs one call with a fresh output batch, then adds a `wake` if the next deadline moved earlier. */
  private run(now: number, f: () => void): Output[] {
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a finite number');
    const out: Output[] = [];
    this.ctx.out = out;
    try {
      f();
    } finally {
      this.ctx.out = [];
    }
    // The deadlines set during f can only bring the next wake forward; the exact next one (a scan of
    // every pending request, query and chore) is needed only once the announced wake has come.
    let next = this.ctx.takeSoonest();
    if (this.announcedWake <= now) next = Math.min(next, this.router.nextDeadline(), this.membership.nextDeadline(), this.repair.nextDeadline());
    if (next < this.announcedWake || this.announcedWake <= now) {
      this.announcedWake = next;
      out.push({ kind: 'wake', at: next });
    }
    return out;
  }
}

function checkKind(kind: BlockKind): void {
  if (kind !== 'CHK' && kind !== 'SSK') throw new TypeError(`unknown block kind ${String(kind)}`);
}
