// A relay's CGO layer for one circuit (Tor proposal 359; arti tor-proto `RelayOutbound` and
// `RelayInbound`): the forward state (cells from the client) and the backward state (cells towards
// the client). Relays only ever use ENC_UIV.
//
//   forward (relay a cell away from the client):
//     ENC_UIV with H = T' ‖ AD; T' := Y_L. If Y_L == N (constant time) the cell is for us
//     ("recognised"): K, N := UPDATE_UIV(K, N), and the SENDME tag is the cell's incoming T.
//     Otherwise it passes on to the next hop unchanged in meaning.
//   backward (relay a cell towards the client): ENC_UIV; T' := Y_L.
//   originate (send our own cell towards the client): T := N, ENC_UIV, T' := Y_L, and
//     K, N := UPDATE_UIV(K, Y_L). The SENDME tag is Y_L.
//
// All three work in place on the caller's 509-byte cell body T(16) ‖ C(493); `cmd` is the channel
// command of the cell (RELAY or RELAY_EARLY), CGO's one-byte AD.
//
// Tagging: an unrecognised cell at the last hop of a circuit means the circuit was tampered with
// (or is broken); the caller must then tear the circuit down. The states of every hop from the
// tampered link onward no longer match the client's, so nothing later can be delivered there.

import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { CgoState, equalBlock, splitCgoKeyMaterial } from './cgo.ts';
import { checkLength } from './bytes.ts';
import { CGO_BLOCK_LEN, RELAY_BODY_LEN } from './constants.ts';

/** What `forward` found: recognised cells carry the SENDME tag (the cell's incoming T, 16 bytes). */
export interface CgoForwardResult {
  recognised: boolean;
  sendmeTag?: Uint8Array;
}

const NOT_RECOGNISED: CgoForwardResult = Object.freeze({ recognised: false });

const BLOCK = CGO_BLOCK_LEN; // module-local copies for the hot path
const BODY = RELAY_BODY_LEN;

/** dst[0..16] := src[off..off+16] (no allocation). */
function copyBlock(dst: Uint8Array, src: Uint8Array, off: number): void {
  for (let i = 0; i < BLOCK; i++) dst[i] = src[off + i];
}

export class CgoRelay {
  private readonly fwd: CgoState;
  private readonly bwd: CgoState;
  private readonly incoming = new Uint8Array(BLOCK);

  /** From the two 80-byte seeds K ‖ N: forward (away from the client) and backward. */
  constructor(seedForward: Uint8Array, seedBackward: Uint8Array, backend: CryptoBackend = nodeBackend) {
    this.fwd = new CgoState(seedForward, backend);
    this.bwd = new CgoState(seedBackward, backend);
  }

  /** From a handshake's 180 bytes of CGO key material (forward ‖ backward ‖ binding). */
  static fromKeyMaterial(km: Uint8Array, backend: CryptoBackend = nodeBackend): { relay: CgoRelay; binding: Uint8Array } {
    const { forward, backward, binding } = splitCgoKeyMaterial(km);
    const relay = new CgoRelay(forward, backward, backend);
    forward.fill(0);
    backward.fill(0);
    return { relay, binding };
  }

  /** The forward state (for the vector tests, which start from a given T'). */
  get forwardState(): CgoState {
    return this.fwd;
  }

  /** The backward state (for the vector tests). */
  get backwardState(): CgoState {
    return this.bwd;
  }

  /** Process a cell arriving from the client side, in place. See the header for the steps. */
  forward(cmd: number, cell: Uint8Array): CgoForwardResult {
    checkLength('cgo cell', cell, BODY);
    const st = this.fwd;
    copyBlock(this.incoming, cell, 0);
    st.uiv.encrypt(st.tag, cmd, cell);
    copyBlock(st.tag, cell, 0);
    if (!equalBlock(cell, 0, st.nonce)) return NOT_RECOGNISED;
    st.uiv.update(st.nonce);
    return { recognised: true, sendmeTag: this.incoming.slice() };
  }

  /** Relay a cell from the next hop on towards the client, in place. */
  backward(cmd: number, cell: Uint8Array): void {
    const st = this.bwd;
    st.uiv.encrypt(st.tag, cmd, cell);
    copyBlock(st.tag, cell, 0);
  }

  /**
   * Send our own cell towards the client: `cell` holds the plaintext body in cell[16..509]
   * (cell[0..16] is overwritten) and is encrypted in place. Returns the SENDME tag (16 bytes).
   */
  originate(cmd: number, cell: Uint8Array): Uint8Array {
    checkLength('cgo cell', cell, BODY);
    const st = this.bwd;
    copyBlock(cell, st.nonce, 0);
    st.uiv.encrypt(st.tag, cmd, cell);
    copyBlock(st.tag, cell, 0);
    copyBlock(st.nonce, cell, 0);
    st.uiv.update(st.nonce);
    return st.tag.slice();
  }
}
