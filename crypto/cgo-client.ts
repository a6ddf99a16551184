// The client's CGO layers over a circuit of hops (Tor proposal 359; arti tor-proto `ClientOutbound`,
// `ClientInbound`, `OutboundClientCrypt`, `InboundClientCrypt`). The client only ever uses DEC_UIV,
// so each relay's ENC_UIV undoes one of its layers.
//
//   originate to hop d (1-based): T := N_d; DEC_UIV with layer d's state; T'_d := old N_d; then
//     K_d, N_d := UPDATE_UIV(K_d, old N_d). The SENDME tag is the tag after layer d (the T that hop
//     d will see). Then for i = d-1 .. 1: T'_i := the incoming tag; DEC_UIV with layer i.
//   decrypt a backward cell: for i = 1 .. n: T'_i := the incoming tag t; DEC_UIV with layer i; if
//     the result's tag equals N_i (constant time), hop i sent it: K_i, N_i := UPDATE_UIV(K_i, t)
//     and the SENDME tag is t. If no layer recognises it the cell is rejected.
//
// Cells are processed in place on the caller's 509-byte body T(16) ‖ C(493): originate reads the
// plaintext from cell[16..509] and overwrites cell[0..16]; decryptBackward leaves the plaintext in
// cell[16..509]. A rejected cell kills the circuit: the states no longer match the relays', so every
// later call throws (the caller must tear the circuit down), and nothing altered is ever delivered.

import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength } from './bytes.ts';
import { CgoState, equalBlock, splitCgoKeyMaterial } from './cgo.ts';
import { CGO_BLOCK_LEN, RELAY_BODY_LEN } from './constants.ts';
import { CryptoError } from './errors.ts';

/** A backward cell's origin: `hop` is 1-based (1 = the first relay) and its SENDME tag. */
export interface CgoBackwardResult {
  hop: number;
  sendmeTag: Uint8Array;
}

const BLOCK = CGO_BLOCK_LEN; // module-local copies for the hot path
const BODY = RELAY_BODY_LEN;

function copyBlock(dst: Uint8Array, src: Uint8Array, off: number): void {
  for (let i = 0; i < BLOCK; i++) dst[i] = src[off + i];
}

export class CgoClient {
  private readonly fwd: CgoState[] = [];
  private readonly bwd: CgoState[] = [];
  private readonly incoming = new Uint8Array(BLOCK);
  private readonly backend: CryptoBackend;
  private dead = false;

  constructor(backend: CryptoBackend = nodeBackend) {
    this.backend = backend;
  }

  /** Number of hops so far. */
  get hops(): number {
    return this.fwd.length;
  }

  /** True once a cell was rejected: the circuit must be torn down. */
  get failed(): boolean {
    return this.dead;
  }

  /** Add the next hop from its two 80-byte seeds K ‖ N (forward, backward). */
  addHop(seedForward: Uint8Array, seedBackward: Uint8Array): void {
    if (this.fwd.length >= 255) throw new RangeError('cgo client: too many hops');
    const f = new CgoState(seedForward, this.backend);
    const b = new CgoState(seedBackward, this.backend);
    this.fwd.push(f);
    this.bwd.push(b);
  }

  /** Add the next hop from its handshake's 180 bytes of CGO key material; returns the binding. */
  addHopFromKeyMaterial(km: Uint8Array): Uint8Array {
    const { forward, backward, binding } = splitCgoKeyMaterial(km);
    this.addHop(forward, backward);
    forward.fill(0);
    backward.fill(0);
    return binding;
  }

  /** Hop `hop`'s forward state (1-based; for the vector tests, which start from a given T'). */
  forwardState(hop: number): CgoState {
    this.checkHop(hop);
    return this.fwd[hop - 1];
  }

  /** Hop `hop`'s backward state (1-based). */
  backwardState(hop: number): CgoState {
    this.checkHop(hop);
    return this.bwd[hop - 1];
  }

  private checkHop(hop: number): void {
    if (!Number.isInteger(hop) || hop < 1 || hop > this.fwd.length) throw new RangeError('cgo client: no such hop');
  }

  /**
   * Encrypt a cell for hop `hop` (1-based), in place: the plaintext is cell[16..509]. Returns the
   * SENDME tag that hop will use. Throws CryptoError BAD_STATE once the circuit has failed.
   */
  originate(hop: number, cmd: number, cell: Uint8Array): Uint8Array {
    this.checkHop(hop);
    checkLength('cgo cell', cell, BODY);
    if (this.dead) throw new CryptoError('BAD_STATE', 'cgo: circuit failed; tear it down');
    const d = this.fwd[hop - 1];
    copyBlock(cell, d.nonce, 0);
    d.uiv.decrypt(d.tag, cmd, cell);
    copyBlock(d.tag, d.nonce, 0);
    d.uiv.update(d.nonce);
    const sendmeTag = cell.slice(0, BLOCK);
    for (let i = hop - 2; i >= 0; i--) {
      const st = this.fwd[i];
      copyBlock(this.incoming, cell, 0);
      st.uiv.decrypt(st.tag, cmd, cell);
      copyBlock(st.tag, this.incoming, 0);
    }
    return sendmeTag;
  }

  /**
   * Decrypt a cell from the circuit, in place, and say which hop sent it. Throws CryptoError
   * CELL_REJECTED if no hop did (tampering or a broken circuit); from then on every call fails.
   */
  decryptBackward(cmd: number, cell: Uint8Array): CgoBackwardResult {
    checkLength('cgo cell', cell, BODY);
    if (this.dead) throw new CryptoError('CELL_REJECTED', 'cgo: circuit failed; tear it down');
    for (let i = 0; i < this.bwd.length; i++) {
      const st = this.bwd[i];
      copyBlock(this.incoming, cell, 0);
      st.uiv.decrypt(st.tag, cmd, cell);
      copyBlock(st.tag, this.incoming, 0);
      if (equalBlock(cell, 0, st.nonce)) {
        copyBlock(st.nonce, this.incoming, 0);
        st.uiv.update(st.nonce);
        return { hop: i + 1, sendmeTag: this.incoming.slice() };
      }
    }
    this.dead = true;
    throw new CryptoError('CELL_REJECTED', 'cgo: backward cell recognised by no hop');
  }
}
