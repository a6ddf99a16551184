// Test helpers for the routing core: deterministic identities and a tiny synchronous network that
// delivers the cores' messages in FIFO order on a fake clock, logging every message, so tests can
// build small topologies by hand and check paths, rejects, timeouts and backtracking.
// (Not a test file itself: tap runs *.test.ts only.)

import { nodeBackend } from '../../crypto/backend-node.ts';
import { ROUTING_PROTOCOL_VERSION } from '../../routing/constants.ts';
import { checkDescriptor, decodeDescriptor, DescriptorCache, signDescriptor, type DescriptorFields, type NodeDescriptor } from '../../routing/descriptor.ts';
import { compareDistance, idHex, type NodeId } from '../../routing/keyspace.ts';
import { decodeMessage, encodeMessage, peekType, type RoutingMessage } from '../../routing/messages.ts';
import { NodeCore } from '../../routing/node-core.ts';
import type { FetchResult, InsertResult, LookupResult, Output } from '../../routing/outputs.ts';
import type { BlockKind, BlockStore } from '../../store/block-store.ts';
import type { RoutingPolicy } from '../../routing/policy.ts';
import { SeededRandom } from '../../routing/runtime.ts';

export const T0 = Date.UTC(2025, 0, 1);

export interface TestIdentity {
  seed: Uint8Array;
  desc: NodeDescriptor;
  fields: DescriptorFields;
}

export function makeIdentity(rng: SeededRandom, i: number, timestamp = T0, extra: Partial<DescriptorFields> = {}): TestIdentity {
  const seed = rng.bytes(32);
  const fields: DescriptorFields = {
    protocolVersion: ROUTING_PROTOCOL_VERSION,
    identityKey: nodeBackend.ed25519.publicKey(seed),
    onionKey: rng.bytes(32),
    addresses: [`192.0.2.${(i % 250) + 1}:${7000 + i}`],
    timestamp,
    ...extra,
  };
  const bytes = signDescriptor(fields, seed);
  return { seed, fields, desc: checkDescriptor(decodeDescriptor(bytes), timestamp) };
}

export function makeIdentities(n: number, seed = 1): TestIdentity[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, (_, i) => makeIdentity(rng, i));
}

/** Identities sorted by distance to key, closest first. */
export function byDistance(ids: TestIdentity[], key: Uint8Array): TestIdentity[] {
  return [...ids].sort((a, b) => compareDistance(a.desc.id, b.desc.id, key));
}

export interface Sent {
  from: string;
  to: string;
  msg: RoutingMessage;
}

export class TestNet {
  now = T0;
  readonly cores = new Map<string, NodeCore>();
  readonly names = new Map<string, string>(); // hex id → name for readable logs
  readonly queue: { from: NodeId; to: NodeId; bytes: Uint8Array }[] = [];
  readonly log: Sent[] = [];
  readonly dead = new Set<string>();
  readonly results = new Map<string, LookupResult>();
  readonly fetches = new Map<string, FetchResult>();
  readonly inserts = new Map<string, InsertResult>();
  /** Nodes (hex ids) that flip a byte of every block they send back (a malicious server). */
  readonly corrupt = new Set<string>();
  readonly joined = new Set<string>();
  readonly rng: SeededRandom;
  readonly descriptors = new DescriptorCache(nodeBackend.ed25519, 1 << 16);

  constructor(seed = 42) {
    this.rng = new SeededRandom(seed);
  }

  add(name: string, id: TestIdentity, policy: Partial<RoutingPolicy> = {}, k?: number, store?: BlockStore): NodeCore {
    const core = new NodeCore(
      { self: id.desc, random: this.rng.source(), descriptors: this.descriptors, policy, table: { k }, store },
      this.now,
    );
    this.cores.set(idHex(id.desc.id), core);
    this.names.set(idHex(id.desc.id), name);
    return core;
  }

  name(id: NodeId): string {
    return this.names.get(idHex(id)) ?? idHex(id).slice(0, 8);
  }

  /** `a` learns `b` (one direction). */
  know(a: NodeCore, ...bs: NodeCore[]): void {
    for (const b of bs) a.table.offer(b.self, this.now);
  }

  kill(c: NodeCore): void {
    this.dead.add(idHex(c.id));
  }

  handle(from: NodeCore, outputs: Output[]): void {
    for (const o of outputs) {
      if (o.kind === 'send') this.queue.push({ from: from.id, to: o.to, bytes: this.maybeCorrupt(from, o.bytes) });
      else if (o.kind === 'lookupDone') this.results.set(idHex(o.requestId), o.result);
      else if (o.kind === 'fetchDone') this.fetches.set(idHex(o.requestId), o.result);
      else if (o.kind === 'insertDone') this.inserts.set(idHex(o.requestId), o.result);
      else if (o.kind === 'joined') this.joined.add(idHex(from.id));
    }
  }

  lookup(from: NodeCore, key: Uint8Array): string {
    const { requestId, outputs } = from.lookup(key, this.now);
    this.handle(from, outputs);
    return idHex(requestId);
  }

  fetch(from: NodeCore, kind: BlockKind, key: Uint8Array): string {
    const { requestId, outputs } = from.fetchBlock(kind, key, this.now);
    this.handle(from, outputs);
    return idHex(requestId);
  }

  insert(from: NodeCore, kind: BlockKind, key: Uint8Array, block: Uint8Array): string {
    const { requestId, outputs } = from.insertBlock(kind, key, block, this.now);
    this.handle(from, outputs);
    return idHex(requestId);
  }

  private maybeCorrupt(from: NodeCore, bytes: Uint8Array): Uint8Array {
    if (!this.corrupt.has(idHex(from.id)) || peekType(bytes) !== 'BLOCK_REPLY') return bytes;
    const m = decodeMessage(bytes);
    if (m.type !== 'BLOCK_REPLY') return bytes;
    const block = m.block.slice();
    block[block.length >> 1] ^= 1;
    return encodeMessage({ ...m, block });
  }

  /** Injects raw bytes as if `from` sent them to `to`. */
  inject(from: NodeId, to: NodeCore, bytes: Uint8Array): void {
    this.queue.push({ from, to: to.id, bytes });
  }

  /** Delivers the oldest queued message; one to a dead or unknown node vanishes. */
  step(): void {
    const m = this.queue.shift();
    if (m === undefined) return;
    const to = idHex(m.to);
    this.log.push({ from: this.name(m.from), to: this.name(m.to), msg: decodeMessage(m.bytes) });
    const core = this.cores.get(to);
    if (core === undefined || this.dead.has(to)) return;
    this.handle(core, core.receive(m.from, m.bytes, this.now));
  }

  /** Delivers queued messages (FIFO) until none is left. */
  flush(maxSteps = 100_000): void {
    for (let i = 0; i < maxSteps && this.queue.length > 0; i++) this.step();
    if (this.queue.length > 0) throw new Error('flush: message storm');
  }

  /** Moves the clock on, ticks every live core and delivers what follows. */
  advance(ms: number): void {
    this.now += ms;
    for (const [hex, core] of this.cores) if (!this.dead.has(hex)) this.handle(core, core.tick(this.now));
    this.flush();
  }

  /** The log as "TYPE from>to" strings, for path assertions. */
  trace(filter?: (s: Sent) => boolean): string[] {
    return this.log.filter(filter ?? (() => true)).map((s) => `${s.msg.type} ${s.from}>${s.to}`);
  }
}
