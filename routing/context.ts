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
