// The bounds and eviction policy shared by every block store (DESIGN.md "Store"), so the simulator's
// memory store evicts exactly as the node's datastore does: the bound is split into a 'store' budget
// and a 'cache' budget, each role keeps its blocks in least-recently-used order, and a role that goes
// over its budget evicts its own oldest blocks, never the other role's. Pure bookkeeping: no I/O.

import type { RoleStats, StoreRole } from './block-store.ts';

export const DEFAULT_STORE_FRACTION = 0.5;

export interface Budgets {
  store: number;
  cache: number;
}

/** Split a bound into the two roles' budgets (RangeError for a bound or fraction out of range). */
export function roleBudgets(maxBytes: number, storeFraction = DEFAULT_STORE_FRACTION): Budgets {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError('block store: maxBytes must be a non-negative integer');
  if (!(storeFraction >= 0 && storeFraction <= 1)) throw new RangeError('block store: storeFraction must be in [0, 1]');
  const store = Math.floor(maxBytes * storeFraction);
  return { store, cache: maxBytes - store };
}

export interface Sized {
  role: StoreRole;
  /** Bytes charged to the role's budget. */
  size: number;
}

/**
 * Two LRU lists keyed by string, one per role, with byte totals. A Map keeps insertion order, so
 * "touch" is delete-then-set and the oldest entry is the first one iterated.
 */
export class RoleLru<E extends Sized> {
  private readonly maps: Record<StoreRole, Map<string, E>> = { store: new Map(), cache: new Map() };
  private readonly bytes: Record<StoreRole, number> = { store: 0, cache: 0 };
  evictions = 0;

  constructor(readonly budgets: Budgets) {}

  get(key: string): E | undefined {
    return this.maps.store.get(key) ?? this.maps.cache.get(key);
  }

  /** Mark recently used. */
  touch(key: string): void {
    const e = this.get(key);
    if (!e) return;
    const m = this.maps[e.role];
    m.delete(key);
    m.set(key, e);
  }

  /** Whether an entry of this size may ever fit its role. */
  fits(role: StoreRole, size: number): boolean {
    return size <= this.budgets[role];
  }

  /**
   * Add (or replace) an entry as the most recently used of its role, then evict the role's oldest
   * entries until it is within budget. Returns what was evicted (the replaced entry is not among
   * them: the caller already knows it). The caller checked `fits` first.
   */
  set(key: string, entry: E): Array<[string, E]> {
    this.remove(key);
    this.maps[entry.role].set(key, entry);
    this.bytes[entry.role] += entry.size;
    const evicted: Array<[string, E]> = [];
    const m = this.maps[entry.role];
    for (const [k, e] of m) {
      if (this.bytes[entry.role] <= this.budgets[entry.role]) break;
      if (k === key) break; // never evict what was just added (fits() guarantees it alone is within budget)
      m.delete(k);
      this.bytes[entry.role] -= e.size;
      this.evictions++;
      evicted.push([k, e]);
    }
    return evicted;
  }

  remove(key: string): E | undefined {
    const e = this.get(key);
    if (!e) return undefined;
    this.maps[e.role].delete(key);
    this.bytes[e.role] -= e.size;
    return e;
  }

  stats(role: StoreRole): RoleStats {
    return { bytes: this.bytes[role], count: this.maps[role].size, budget: this.budgets[role] };
  }

  entries(): IterableIterator<[string, E]> {
    return [...this.maps.store, ...this.maps.cache][Symbol.iterator]();
  }
}
