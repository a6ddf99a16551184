// The simulator's block store (issue 4 part 3): the store/block-store.ts interface over a pool
// shared by every simulated node. Blocks are immutable and a verified block is exactly what its key
// names, so the pool keeps one Uint8Array per key and each node keeps only which keys it holds and
// in which role: 10,000 blocks of 32 KiB cost 320 MiB however many nodes store or cache them. The
// 'store' role is unbounded (a node stores what it is closest to); the 'cache' role keeps the
// `cacheBlocks` most recently used. A put verifies a block the first time the pool sees its key;
// later copies are compared with the pooled one. get returns the pooled object: callers must not
// write to it (the routing core never does).

import { equalBytes, toHex } from '../../crypto/bytes.ts';
import type { BlockKind, BlockStore, BlockStoreStats, StoreRole } from '../../store/block-store.ts';
import { verifyBlock } from '../../store/block-verify.ts';

export class BlockPool {
  private readonly blocks = new Map<string, Uint8Array>();
  verifications = 0;

  get size(): number {
    return this.blocks.size;
  }

  /** The pooled copy of a block (verified now if the key is new), or undefined if it is bad. */
  intern(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array): { key: string; block: Uint8Array } | undefined {
    const key = kind + toHex(routingKey);
    const held = this.blocks.get(key);
    if (held !== undefined) return held === block || equalBytes(held, block) ? { key, block: held } : undefined;
    this.verifications++;
    if (verifyBlock(kind, routingKey, block) === null) return undefined;
    this.blocks.set(key, block);
    return { key, block };
  }

  lookup(kind: BlockKind, routingKey: Uint8Array): { key: string; block: Uint8Array | undefined } {
    const key = kind + toHex(routingKey);
    return { key, block: this.blocks.get(key) };
  }
}

export class PooledStore implements BlockStore {
  private readonly stored = new Set<string>();
  private readonly cached = new Map<string, true>(); // insertion order = recency
  private evictions = 0;

  constructor(
    private readonly pool: BlockPool,
    private readonly cacheBlocks: number,
  ) {}

  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    const { key, block } = this.pool.lookup(kind, routingKey);
    if (block === undefined) return undefined;
    if (this.stored.has(key)) return block;
    if (!this.cached.has(key)) return undefined;
    this.cached.delete(key);
    this.cached.set(key, true);
    return block;
  }

  borrow<T>(kind: BlockKind, routingKey: Uint8Array, use: (block: Uint8Array) => T): T | undefined {
    const block = this.get(kind, routingKey);
    return block === undefined ? undefined : use(block);
  }

  has(kind: BlockKind, routingKey: Uint8Array): boolean {
    const { key } = this.pool.lookup(kind, routingKey);
    return this.stored.has(key) || this.cached.has(key);
  }

  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole): boolean {
    const got = this.pool.intern(kind, routingKey, block);
    if (got === undefined) return false;
    if (role === 'store' || this.stored.has(got.key)) {
      this.cached.delete(got.key);
      this.stored.add(got.key);
      return true;
    }
    if (this.cacheBlocks <= 0) return false;
    this.cached.delete(got.key);
    this.cached.set(got.key, true);
    if (this.cached.size > this.cacheBlocks) {
      this.cached.delete(this.cached.keys().next().value!);
      this.evictions++;
    }
    return true;
  }

  /** The role a block is held in, by its pool key (kind ‖ hex key), for the simulator's census. */
  roleOf(poolKey: string): StoreRole | undefined {
    return this.stored.has(poolKey) ? 'store' : this.cached.has(poolKey) ? 'cache' : undefined;
  }

  stats(): BlockStoreStats {
    const size = 32 * 1024;
    return {
      store: { bytes: this.stored.size * size, count: this.stored.size, budget: Infinity },
      cache: { bytes: this.cached.size * size, count: this.cached.size, budget: this.cacheBlocks * size },
      evictions: this.evictions,
      corrupt: 0,
    };
  }

  flush(): void {}

  close(): void {}
}
