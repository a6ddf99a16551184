// The simulator's in-memory network: delivers a node's outgoing routing messages to the
// destination's core after a seeded random latency, and drops them silently when the destination
// is dead or unknown (an abrupt failure: no goodbye, no reset, the sender only sees a timeout).
// It counts messages by type and by phase, for the metrics.

import { idHex, type NodeId } from '../../routing/keyspace.ts';
import { peekType, type MessageType } from '../../routing/messages.ts';
import type { VirtualClock } from './clock.ts';
import type { SimNode } from './sim-node.ts';

export interface LatencyModel {
  /** One-way latency bounds in ms; each message draws uniformly between them. */
  minMs: number;
  maxMs: number;
}

export class SimNetwork {
  readonly nodes = new Map<string, SimNode>();
  // Ids are shared objects (one descriptor object per node, from the shared cache), so most
  // lookups hit by identity and skip the hex conversion.
  private readonly byObject = new WeakMap<Uint8Array, SimNode>();
  /** Messages sent, by type, since the last resetCounts(). */
  counts = new Map<MessageType, number>();
  sent = 0;
  dropped = 0;
  bytes = 0;

  constructor(
    readonly clock: VirtualClock,
    readonly latency: LatencyModel = { minMs: 10, maxMs: 100 },
  ) {}

  add(node: SimNode): void {
    this.nodes.set(node.hex, node);
    this.byObject.set(node.id, node);
  }

  get(id: NodeId): SimNode | undefined {
    return this.byObject.get(id) ?? this.nodes.get(idHex(id));
  }

  send(from: SimNode, to: NodeId, bytes: Uint8Array): void {
    this.sent++;
    this.bytes += bytes.length;
    const type = peekType(bytes);
    if (type !== undefined) this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    const dest = this.get(to);
    const span = this.latency.maxMs - this.latency.minMs;
    const delay = this.latency.minMs + (span > 0 ? this.clock.rng.int(span + 1) : 0);
    if (dest === undefined || !dest.alive) {
      this.dropped++;
      return;
    }
    const fromId = from.id;
    this.clock.at(this.clock.now() + delay, () => {
      if (dest.alive) dest.deliver(fromId, bytes);
    });
  }

  resetCounts(): void {
    this.counts = new Map();
    this.sent = 0;
    this.dropped = 0;
    this.bytes = 0;
  }
}
