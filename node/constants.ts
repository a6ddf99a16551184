// Constants and default policies of the node's I/O shell (links, timeouts, limits), in one place.
// Cell layout follows tor-spec §3 (circuit id, command, 509-byte body); the rest is Umbra's policy.

import { RELAY_BODY_LEN } from '../crypto/constants.ts';

// --- Cells and frames on a link ---
export const CELL_BODY_LEN = RELAY_BODY_LEN; // 509
export const CELL_HEADER_LEN = 5; // circuit id (u32) ‖ command (u8)
export const CELL_LEN = CELL_HEADER_LEN + CELL_BODY_LEN; // 514
export const FRAME_LEN_PREFIX = 2; // u16 big-endian length of the Noise message that follows
export const NOISE_TAG_LEN = 16;
export const MAX_CELLS_PER_FRAME = Math.floor((65535 - NOISE_TAG_LEN) / CELL_LEN); // 127
/** Largest link-level message (a routing message, reassembled from cells). */
export const MAX_LINK_MESSAGE = 64 * 1024;

export const CellCommand = {
  PADDING: 0,
  MESSAGE: 1, // a fragment of a link-level message (routing protocol), see link-cells.ts
  CREATE2: 10,
  CREATED2: 11,
  RELAY: 3,
  RELAY_EARLY: 9,
  DESTROY: 4,
} as const;

// --- The node process ---
/**
 * V8 flags every node process starts with (the `umbra` executable's first line, devnet's children,
 * bench:net), each measured on a 10-node insert of 100 MiB into a freshly started network:
 * - `--initial-old-space-size=64`: a node allocates a 32 KiB buffer or two per block it relays;
 *   with V8's default, which keeps the old generation's first limit small and tunes it down
 *   further, that churn ran a full (mark-compact) collection every few hundred milliseconds and
 *   kept recompiling hot code: 7.4 s of CPU and 24.8 MiB/s without the flag, 5.6-5.9 s and
 *   30-32 MiB/s with it (64, 128, 256 and 512 MB gave the same; 64 costs the least memory).
 * - `--interrupt-budget=1048576` (16 times V8's 67,584): how much bytecode a function runs before
 *   V8 counts it a step closer to its optimizing compiler. A relay runs its per-block code only
 *   ~1,300 times per 100 MiB inserted, so with the default most of that code was compiled by
 *   TurboFan during the insert and barely used: ~20 % of every relay's CPU went to compiling.
 *   Measured side by side: 6.3-6.9 s of CPU and 26.7-29.1 MiB/s with the default, 5.7-5.8 s and
 *   30.9-31.7 MiB/s with this (other budgets, in separate runs: 2 MiB 29.6-30.8, 256 KiB 29-30, 16 KiB 22-23; no
 *   optimizing compiler at all, `--max-opt=1`: 32.6-32.8 but slower fetches). The trade: relays
 *   reach the optimizing compiler later, so a 1 GiB insert was a little slower (31.6 against 33.8
 *   MiB/s in one pair); a node that keeps running gets there all the same.
 */
export const NODE_V8_FLAGS: readonly string[] = ['--initial-old-space-size=64', '--interrupt-budget=1048576'];

// --- Link policy defaults ---
export const HANDSHAKE_TIMEOUT_MS = 5_000;
export const IDLE_PADDING_MIN_MS = 1_500; // padding-spec-like: a cell after 1.5–9.5 s idle
export const IDLE_PADDING_MAX_MS = 9_500;
export const MAX_LINKS = 128;
export const MAX_PENDING_HANDSHAKES = 64;
export const SEND_QUEUE_HIGH_WATER = 1024 * 1024; // bytes buffered toward one peer before we shed
export const PEER_CELL_RATE = 200_000; // cells/s a peer may send us, sustained (~100 MB/s of bodies)
export const PEER_CELL_BURST = 400_000;
export const RECONNECT_BASE_MS = 250;
export const RECONNECT_MAX_MS = 60_000;
