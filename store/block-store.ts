// The block store interface (DESIGN.md "Store"): what the routing core and the simulator call to
// keep and serve CHK and SSK blocks. Synchronous on purpose: the routing core is sans-IO and never
// awaits, so both the on-disk datastore (node/datastore/) and the in-memory one (store/memory-store.ts)
// answer at once. Semantics every implementation keeps:
// - put verifies the block against its routing key first and refuses (false) what does not verify;
// - get verifies again before returning; a block that fails is dropped and reported missing;
// - an SSK routing key holds one block, the newest (crypto/ssk.ts sskNewer); an older put is ignored;
// - two budgets, 'store' (blocks this node is responsible for) and 'cache' (blocks passing by),
//   each evicting its least recently used blocks when full, never the other role's.

export type BlockKind = 'CHK' | 'SSK';

/** 'store': blocks the node is responsible for (close to its location); 'cache': blocks passing by. */
export type StoreRole = 'store' | 'cache';

export interface RoleStats {
  /** Bytes of block data held (what the budget counts). */
  bytes: number;
  count: number;
  /** The role's budget in bytes. */
  budget: number;
}

export interface BlockStoreStats {
  store: RoleStats;
  cache: RoleStats;
  /** Blocks dropped to make room, since open. */
  evictions: number;
  /** Blocks found corrupt (failed verification on get, or unreadable) and dropped, since open. */
  corrupt: number;
}

export interface BlockStoreOptions {
  /** The bound, in bytes (e.g. from `--store-size`). */
  maxBytes: number;
  /** Share of the bound given to the 'store' role; the rest is the cache. Default 0.5. */
  storeFraction?: number;
}

export interface PutOptions {
  /** The caller verified this very block against the key just now (the router does, for every
   *  block from a peer): the store skips its own check. Gets verify regardless. */
  verified?: boolean;
}

export interface BlockStore {
  /** The verified block, or undefined (absent, or failed verification and was dropped). Marks it recently used. */
  get(kind: BlockKind, routingKey: Uint8Array): Uint8Array | undefined;
  /**
   * The verified block lent to `use` for the length of the call, as get finds it (and marks it
   * recently used); undefined, without calling `use`, when get would find nothing. The block may be
   * a view into the store's own read buffer: valid only during the call, never to be kept or
   * changed (copy what you keep). Serving a block that is encoded at once (a BLOCK_REPLY) costs no
   * fresh buffer this way, which is what keeps a get near the speed of its one hash.
   */
  borrow<T>(kind: BlockKind, routingKey: Uint8Array, use: (block: Uint8Array) => T): T | undefined;
  /** Whether a block is held (not verified; get may still find it corrupt). Does not touch recency. */
  has(kind: BlockKind, routingKey: Uint8Array): boolean;
  /**
   * Verify and keep a block. False if refused: it does not verify, it is bigger than the role's
   * budget, or (SSK) an equal or newer version is held. A block already held as 'cache' and put
   * as 'store' moves to the store; one held as 'store' and put as 'cache' stays in the store.
   */
  put(kind: BlockKind, routingKey: Uint8Array, block: Uint8Array, role: StoreRole, opts?: PutOptions): boolean;
  stats(): BlockStoreStats;
  /** Make everything put so far durable (a no-op in memory). */
  flush(): void;
  close(): void;
}
