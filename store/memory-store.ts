// The in-memory block store for the simulator and tests (DESIGN.md "Store"): the same interface,
// verification, SSK newest-wins rule, role budgets and LRU eviction as the on-disk datastore
// (node/datastore/), with no I/O. Blocks are copied in and out, so callers cannot alter what is held.

import { sskNewer } from '../crypto/ssk.ts';
import type { BlockKind, BlockStore, BlockStoreOptions, BlockStoreStats, PutOptions, StoreRole } from './block-store.ts';
import { checkKindAndKey, verifyBlock } from './block-verify.ts';
import { RoleLru, roleBudgets } from './store-policy.ts';

interface Held {
  role: StoreRole;
  size: number;
  block: Uint8Array;
}

const keyOf = (kind: BlockKind, routingKey: Uint8Array): string => kind + Buffer.from(routingKey).toString('base64');

export class MemoryStore implements BlockStore {
  private readonly lru: RoleLru<Held>;
  private corrupt = 0;
  private closed = false;

  constructor(opts: BlockStoreOptions) {
    this.lru = new RoleLru(roleBudgets(opts.maxBytes, opts.storeFraction));
  }

  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined {
    return this.borrow(kind, routingKey, (block) => block.slice());
  }

  borrow<T>(kind: BlockKind, routingKey: Uint8Array, use: (block: Uint8Array) => T): T | undefined {
    this.check(kind, routingKey);
    const k = keyOf(kind, routingKey);
    const held = this.lru.get(k);
    if (!held) return undefined;
    if (!verifyBlock(kind, routingKey, held.block)) {
      this.lru.remove(k); // only reachable if memory was altered; same rule as on disk
      this.corrupt++;
      return undefined;
    }
    this.lru.touch(k);
    return use(held.block);
  }

  has(kind: BlockKind, routingKey: Uint8Array): boolean {
    this.check(kind, routingKey);
    return this.lru.get(keyOf(kind, routingKey)) !== undefined;
  }

  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole, opts: PutOptions = {}): boolean {
    this.check(kind, routingKey);
    if (role !== 'store' && role !== 'cache') throw new TypeError(`block store: unknown role ${String(role)}`);
    if (opts.verified !== true && !verifyBlock(kind, routingKey, block)) return false;
    const k = keyOf(kind, routingKey);
    const held = this.lru.get(k);
    let keep = block;
    if (held) {
      if (kind === 'SSK') {
        const newer = sskNewer(held.block, block);
        if (newer === held.block && !Buffer.from(held.block).equals(block)) return false; // older: ignored
        keep = newer;
      }
      if (held.role === 'store') role = 'store'; // never demoted
    }
    if (!this.lru.fits(role, keep.length)) return false;
    this.lru.set(k, { role, size: keep.length, block: keep === held?.block ? keep : keep.slice() });
    return true;
  }

  stats(): BlockStoreStats {
    return { store: this.lru.stats('store'), cache: this.lru.stats('cache'), evictions: this.lru.evictions, corrupt: this.corrupt };
  }

  flush(): void {}

  close(): void {
    this.closed = true;
  }

  private check(kind: BlockKind, routingKey: Uint8Array): void {
    if (this.closed) throw new Error('block store: closed');
    checkKindAndKey(kind, routingKey);
  }
}
