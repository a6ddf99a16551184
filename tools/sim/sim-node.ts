// The simulator's driver for one node: the same routing core a real node runs (routing/node-core),
// wired to the in-memory network and the virtual clock instead of TCP and timers. It carries out
// the core's outputs: `send` goes to the network, `wake` schedules a tick, `lookupDone`,
// `fetchDone`, `insertDone` and `joined` go to the scenario's callbacks. A node marked `corrupt`
// plays a malicious server: it flips one byte of every block it sends back (BLOCK_REPLY).

import type { NodeDescriptor } from '../../routing/descriptor.ts';
import { idHex, type NodeId } from '../../routing/keyspace.ts';
import { decodeMessage, encodeMessage, peekType } from '../../routing/messages.ts';
import { NodeCore, type NodeCoreConfig } from '../../routing/node-core.ts';
import type { FetchResult, InsertResult, LookupResult, Output } from '../../routing/outputs.ts';
import type { BlockKind } from '../../store/block-store.ts';
import type { SimNetwork } from './network.ts';

export interface SimNodeEvents {
  lookupDone(node: SimNode, requestId: Uint8Array, result: LookupResult): void;
  joined(node: SimNode, peers: number): void;
  fetchDone?(node: SimNode, requestId: Uint8Array, result: FetchResult): void;
  insertDone?(node: SimNode, requestId: Uint8Array, result: InsertResult): void;
}

export class SimNode {
  readonly core: NodeCore;
  readonly id: NodeId;
  readonly hex: string;
  alive = true;
  corrupt = false;
  private wantAt = Infinity; // the core's latest wake
  private queuedAt = Infinity; // time of the tick event in the queue, Infinity if none

  constructor(
    readonly index: number,
    self: NodeDescriptor,
    config: Omit<NodeCoreConfig, 'self'>,
    private readonly net: SimNetwork,
    private readonly events: SimNodeEvents,
  ) {
    this.core = new NodeCore({ ...config, self }, net.clock.now());
    this.id = self.id;
    this.hex = idHex(self.id);
  }

  bootstrap(contacts: Uint8Array[]): void {
    this.handle(this.core.bootstrap(contacts, this.net.clock.now()));
  }

  /** Starts a lookup; `started` learns its request id before any output (even a result) is handled. */
  lookup(key: Uint8Array, started: (requestId: Uint8Array) => void): void {
    const { requestId, outputs } = this.core.lookup(key, this.net.clock.now());
    started(requestId);
    this.handle(outputs);
  }

  fetchBlock(kind: BlockKind, key: Uint8Array, started: (requestId: Uint8Array) => void): void {
    const { requestId, outputs } = this.core.fetchBlock(kind, key, this.net.clock.now());
    started(requestId);
    this.handle(outputs);
  }

  insertBlock(kind: BlockKind, key: Uint8Array, block: Uint8Array, started: (requestId: Uint8Array) => void): void {
    const { requestId, outputs } = this.core.insertBlock(kind, key, block, this.net.clock.now());
    started(requestId);
    this.handle(outputs);
  }

  deliver(from: NodeId, bytes: Uint8Array): void {
    this.handle(this.core.receive(from, bytes, this.net.clock.now()));
  }

  /** Abrupt failure: the node stops; messages to it vanish, its timers never fire. */
  kill(): void {
    this.alive = false;
  }

  private handle(outputs: Output[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'send':
          this.net.send(this, o.to, this.corrupt ? corrupted(o.bytes) : o.bytes);
          break;
        case 'fetchDone':
          this.events.fetchDone?.(this, o.requestId, o.result);
          break;
        case 'insertDone':
          this.events.insertDone?.(this, o.requestId, o.result);
          break;
        case 'wake':
          this.schedule(o.at);
          break;
        case 'lookupDone':
          this.events.lookupDone(this, o.requestId, o.result);
          break;
        case 'joined':
          this.events.joined(this, o.peers);
          break;
      }
    }
  }

  // The core's latest `wake` is the time it expects a tick (a later one replaces an earlier one);
  // one event at a time sits in the queue for it.
  private schedule(at: number): void {
    this.wantAt = at;
    if (at >= this.queuedAt) return;
    this.queuedAt = at;
    this.net.clock.at(at, () => this.fire(at));
  }

  private fire(at: number): void {
    if (at !== this.queuedAt || !this.alive) return; // superseded, or dead
    this.queuedAt = Infinity;
    const now = this.net.clock.now();
    this.handle(this.core.tick(now));
    if (this.queuedAt === Infinity && this.wantAt > now && this.wantAt < Infinity) this.schedule(this.wantAt);
  }
}

/** A BLOCK_REPLY with one byte of its block flipped; any other message unchanged. */
function corrupted(bytes: Uint8Array): Uint8Array {
  if (peekType(bytes) !== 'BLOCK_REPLY') return bytes;
  const m = decodeMessage(bytes);
  if (m.type !== 'BLOCK_REPLY') return bytes;
  const block = m.block.slice();
  block[block.length >> 1] ^= 0x01;
  return encodeMessage({ ...m, block });
}
