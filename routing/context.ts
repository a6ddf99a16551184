// What the parts of one routing core share (routing/node-core.ts builds it): our own descriptor,
// the table, the policy, the injected randomness and descriptor reader, and the output batch of
// the call in progress. Internal to the core.

import { encodeMessage, type RoutingMessage } from './messages.ts';
import type { DescriptorReader, NodeDescriptor } from './descriptor.ts';
import type { NodeId } from './keyspace.ts';
import type { Output } from './outputs.ts';
import type { RoutingPolicy } from './policy.ts';
import type { RandomSource } from './runtime.ts';
import type { RoutingTable } from './table.ts';

export class CoreContext {
  /** Outputs of the call in progress (node-core swaps in a fresh array per call). */
  out: Output[] = [];
  /** The earliest deadline set during the call in progress (node-core announces it as a wake). */
  private soonest = Infinity;

  constructor(
    public self: NodeDescriptor,
    readonly table: RoutingTable,
    readonly policy: RoutingPolicy,
    readonly random: RandomSource,
    readonly descriptors: DescriptorReader,
    readonly hash: (...parts: Uint8Array[]) => Uint8Array,
  ) {}

  send(to: NodeId, m: RoutingMessage): void {
    this.out.push({ kind: 'send', to, bytes: encodeMessage(m) });
  }

  emit(o: Output): void {
    this.out.push(o);
  }

  /**
   * Every part that sets a deadline (a timeout, its next chore) says so here, so the core need not
   * scan all its state after each message to find its next wake: it announces the earliest new
   * deadline, and scans only once a wake has come (node-core.ts run).
   */
  wakeBy(t: number): void {
    if (t < this.soonest) this.soonest = t;
  }

  /** The earliest deadline set since the last call (Infinity if none), and forget it. */
  takeSoonest(): number {
    const t = this.soonest;
    this.soonest = Infinity;
    return t;
  }

  /** A uniform integer in [0, n) for small n (n ≤ 256), from the injected random source. */
  randomInt(n: number): number {
    if (n <= 1) return 0;
    const limit = 256 - (256 % n);
    for (let i = 0; i < 64; i++) {
      const x = this.random(1)[0];
      if (x < limit) return x % n;
    }
    return 0; // a random source that keeps giving 255s: not worth more effort
  }
}
