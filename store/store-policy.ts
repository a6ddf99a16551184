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

interface Node<E> {
  readonly key: string;
  readonly entry: E;
  readonly role: StoreRole; // as inserted: the list it is on
  prev: Node<E> | undefined; // older
  next: Node<E> | undefined; // more recently used
}

interface List<E> {
  oldest: Node<E> | undefined;
  newest: Node<E> | undefined;
  bytes: number;
  count: number;
}

const emptyList = <E>(): List<E> => ({ oldest: undefined, newest: undefined, bytes: 0, count: 0 });

/**
 * Two LRU lists, one per role, with byte totals, over one Map from key to list node. A touch only
 * relinks the node: the Map is written on insert and removal alone. (Re-inserting into a Map to mark
 * use, delete then set, leaves a deleted entry in the key's hash chain each time until the table is
 * rebuilt, so a key touched over and over got slower to find: ~10 us per get at 8,192 entries.)
 */
export class RoleLru<E extends Sized> {
  private readonly nodes = new Map<string, Node<E>>();
  private readonly lists: Record<StoreRole, List<E>> = { store: emptyList(), cache: emptyList() };
  evictions = 0;

  constructor(readonly budgets: Budgets) {}

  get(key: string): E | undefined {
    return this.nodes.get(key)?.entry;
  }

  /** Mark recently used. */
  touch(key: string): void {
    const n = this.nodes.get(key);
    if (!n) return;
    const l = this.lists[n.role];
    if (l.newest === n) return;
    unlink(l, n);
    append(l, n);
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
    this.add(key, entry);
    return this.evictOver(entry.role, key);
  }

  /** Add (or replace) an entry as the most recently used of its role, evicting nothing: the role may be over budget until trim(). */
  add(key: string, entry: E): void {
    this.remove(key);
    const n: Node<E> = { key, entry, role: entry.role, prev: undefined, next: undefined };
    const l = this.lists[n.role];
    this.nodes.set(key, n);
    append(l, n);
    l.bytes += entry.size;
    l.count++;
  }

  /** Evict each role's oldest entries until it is within budget; returns what was evicted. */
  trim(): Array<[string, E]> {
    return [...this.evictOver('store'), ...this.evictOver('cache')];
  }

  private evictOver(role: StoreRole, keep?: string): Array<[string, E]> {
    const l = this.lists[role];
    const budget = this.budgets[role];
    const evicted: Array<[string, E]> = [];
    // Bounded: every round removes a node. `keep` (just added by set) is never removed: fits() guaranteed it alone is within budget.
    for (let old = l.oldest; old && old.key !== keep && l.bytes > budget; old = l.oldest) {
      this.remove(old.key);
      this.evictions++;
      evicted.push([old.key, old.entry]);
    }
    return evicted;
  }

  remove(key: string): E | undefined {
    const n = this.nodes.get(key);
    if (!n) return undefined;
    this.nodes.delete(key);
    const l = this.lists[n.role];
    unlink(l, n);
    l.bytes -= n.entry.size;
    l.count--;
    return n.entry;
  }

  stats(role: StoreRole): RoleStats {
    const l = this.lists[role];
    return { bytes: l.bytes, count: l.count, budget: this.budgets[role] };
  }

  /** A snapshot of every entry, the store's then the cache's, each least recently used first. */
  entries(): IterableIterator<[string, E]> {
    const all: Array<[string, E]> = [];
    for (const role of ['store', 'cache'] as const) {
      for (let n = this.lists[role].oldest; n; n = n.next) all.push([n.key, n.entry]);
    }
    return all[Symbol.iterator]();
  }
}

function unlink<E>(l: List<E>, n: Node<E>): void {
  if (n.prev) n.prev.next = n.next;
  else l.oldest = n.next;
  if (n.next) n.next.prev = n.prev;
  else l.newest = n.prev;
  n.prev = n.next = undefined;
}

function append<E>(l: List<E>, n: Node<E>): void {
  n.prev = l.newest;
  n.next = undefined;
  if (l.newest) l.newest.next = n;
  else l.oldest = n;
  l.newest = n;
}
