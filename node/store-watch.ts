// Watches the datastore for the one condition an operator must hear about: the 'store' role (the
// blocks this node is responsible for, DESIGN.md layer 4) is full and blocks are being evicted from
// it. Inserts still succeed then, but content older than what pushed it out may no longer be
// fetchable (a network holds about a third of its nodes' summed 'store' roles, check blocks
// included). A cache that evicts is normal and says nothing. Pure: node.ts polls it every
// STORE_WATCH_MS and logs what it returns.

import type { BlockStoreStats } from '../store/block-store.ts';
import { formatSize } from './datastore/size.ts';

/** How often node.ts looks. */
export const STORE_WATCH_MS = 60_000;
/** The 'store' role counts as full at this share of its budget. */
const FULL_SHARE = 0.95;

export interface StoreFullWarning {
  message: string;
  fields: Record<string, unknown>;
}

/**
 * A warning if blocks were evicted since `before` while the 'store' role is full, else undefined.
 * (Evictions are counted over both roles; with the store role full, some of them are its own.)
 */
export function storeFullWarning(before: BlockStoreStats, now: BlockStoreStats): StoreFullWarning | undefined {
  const evicted = now.evictions - before.evictions;
  if (evicted <= 0 || now.store.bytes < now.store.budget * FULL_SHARE) return undefined;
  return {
    message: 'store full: blocks this node is responsible for are being evicted; older content may be lost (raise --store-size)',
    fields: { evicted, storeBudget: formatSize(now.store.budget), storeBlocks: now.store.count },
  };
}
