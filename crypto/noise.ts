// The link handshake and transport: Noise_XK_25519_ChaChaPoly_SHA256 (Noise Protocol Framework
// rev 34: §5.3 HandshakeState, §7.5 pattern XK, §5.1/§11.3 transport and rekey), as a pure state
// machine: bytes in, bytes out, no I/O. The dialer (initiator) knows the listener's static key from
// its contact; the listener learns and authenticates the dialer's static key from message 3.
//
//   XK:  <- s
//        ...
//        -> e, es          message 1: e (32) ‖ ENC(payload)            ≥ 48 bytes
//        <- e, ee          message 2: e (32) ‖ ENC(payload)            ≥ 48 bytes
//        -> s, se          message 3: ENC(s) (48) ‖ ENC(payload)       ≥ 64 bytes
//
// Every message is at most NOISE_MAX_MESSAGE (65535) bytes. Payload privacy (§7.7): message 1's
// payload is encrypted to the responder but not authenticated as the initiator's, and replayable;
// message 2's is sent to an unauthenticated initiator. Carry nothing sensitive before message 3.
//
// Failure rules. A handshake that meets a malformed message (wrong length, too long, bad tag,
// low-order key) throws a CryptoError (BAD_MESSAGE, MESSAGE_TOO_LARGE, DECRYPT_FAILED, BAD_KEY)
// and is dead: every later call throws BAD_STATE. Calling out of turn throws BAD_STATE. The
// Transport's receive side is dead after any failed decrypt: nonces are implicit, so a tampered,
// truncated, replayed, reordered or lost message all show up as a failed tag, and on a stream link
// none of them is recoverable; keeping the side dead (instead of the spec's "n does not advance")
// also denies an attacker repeated guesses against one nonce. The link must then be closed. The
// send side has no such failure, only NONCE_EXHAUSTED at n = 2^64-1 (sticky by construction).
// Refusing an oversize payload or plaintext (MESSAGE_TOO_LARGE on our own write) changes nothing.
//
// Speed: the static key arrays given here are passed unchanged to the backend, so nodeBackend's
// per-array KeyObject cache imports them once per process; ephemerals come from x25519.generate()
// (born cached); each received ephemeral is copied once and that one array is used for both DHs.

import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength, utf8, wipe } from './bytes.ts';
import { AEAD_TAG_LEN, NOISE_DHLEN, NOISE_MAX_MESSAGE, NOISE_MAX_PLAINTEXT, NOISE_PROTOCOL_NAME } from './constants.ts';
import { CryptoError } from './errors.ts';
import { CipherState, SymmetricState } from './noise-state.ts';

export interface NoiseKeyPair {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

interface CommonOptions {
  /** Our long-term X25519 key pair; pass the same arrays every time (key cache). */
  staticKey: NoiseKeyPair;
  prologue?: Uint8Array;
  backend?: CryptoBackend;
  /** Tests only (known-answer vectors): a fixed ephemeral. Reusing one breaks all security. */
  ephemeral?: NoiseKeyPair;
}

export interface InitiatorOptions extends CommonOptions {
  /** The responder's static public key, known in advance (the `<- s` pre-message). */
  remoteStatic: Uint8Array;
}

export type ResponderOptions = CommonOptions;

const EMPTY = new Uint8Array(0);
const PROTOCOL_NAME = utf8(NOISE_PROTOCOL_NAME);
const E_LEN = NOISE_DHLEN;
const S_LEN = NOISE_DHLEN + AEAD_TAG_LEN; // encrypted static key in message 3
/** Fixed part of message 1, 2, 3 (keys and the payload's tag); the payload follows. */
const OVERHEAD = [E_LEN + AEAD_TAG_LEN, E_LEN + AEAD_TAG_LEN, S_LEN + AEAD_TAG_LEN];

const badState = (why: string) => new CryptoError('BAD_STATE', `noise: ${why}`);

// Set by Transport's static block: the test-only door to its private CipherStates.
let cipherStatesOf: (t: Transport) => { send: CipherState; receive: CipherState };

/** Both directions of an established link: a pair of CipherStates (built by NoiseHandshake.split). */
export class Transport {
  /** Largest plaintext encrypt() accepts. */
  static readonly MAX_PLAINTEXT = NOISE_MAX_PLAINTEXT;
  /** The handshake hash h (channel binding). */
  readonly handshakeHash: Uint8Array;
  /** The peer's authenticated static public key. */
  readonly remoteStatic: Uint8Array;
  readonly #send: CipherState;
  readonly #recv: CipherState;
  #recvDead = false;

  static {
    cipherStatesOf = (t) => ({ send: t.#send, receive: t.#recv });
  }

  constructor(send: CipherState, receive: CipherState, handshakeHash: Uint8Array, remoteStatic: Uint8Array) {
    this.#send = send;
    this.#recv = receive;
    this.handshakeHash = handshakeHash;
    this.remoteStatic = remoteStatic;
  }

  /** Seal the next outgoing message: plaintext ‖ 16-byte tag (written into `into` if given, a view of it returned). */
  encrypt(plaintext: Uint8Array, ad: Uint8Array = EMPTY, into?: Uint8Array): Uint8Array {
    if (plaintext.length > NOISE_MAX_PLAINTEXT)
      throw new CryptoError('MESSAGE_TOO_LARGE', `noise: plaintext over ${NOISE_MAX_PLAINTEXT} bytes`);
    return this.#send.encryptWithAd(ad, plaintext, into);
  }

  /**
   * Open the next incoming message. Any failure kills the receive side (see the header). With
   * `into` (room for the plaintext) the plaintext is written there and a view of it returned.
   */
  decrypt(ciphertext: Uint8Array, ad: Uint8Array = EMPTY, into?: Uint8Array): Uint8Array {
    if (this.#recvDead) throw badState('receive side failed earlier; close the link');
    try {
      if (ciphertext.length > NOISE_MAX_MESSAGE)
        throw new CryptoError('MESSAGE_TOO_LARGE', `noise: message over ${NOISE_MAX_MESSAGE} bytes`);
      return this.#recv.decryptWithAd(ad, ciphertext, into);
    } catch (e) {
      this.#recvDead = true;
      this.#recv.wipe();
      throw e;
    }
  }

  /** §11.3 Rekey of our sending key; the peer must call rekeyReceive() at the same point. */
  rekeySend(): void {
    this.#send.rekey();
  }

  rekeyReceive(): void {
    if (this.#recvDead) throw badState('receive side failed earlier; close the link');
    this.#recv.rekey();
  }

  /** Erase both keys; every later call throws BAD_STATE. */
  close(): void {
    this.#recvDead = true;
    this.#send.wipe();
    this.#recv.wipe();
  }
}

/**
 * Tests only: set the next nonce of one direction, to reach 2^64-1 without 2^64 messages.
 * On a live link this would reuse nonces and destroy confidentiality.
 */
export function dangerouslySetNonce(t: Transport, direction: 'send' | 'receive', n: bigint): void {
  cipherStatesOf(t)[direction].dangerouslySetNonce(n);
}

/** One side of an XK handshake (§5.3). Create with createInitiator / createResponder. */
export class NoiseHandshake {
  readonly initiator: boolean;
  readonly #be: CryptoBackend;
  readonly #ss: SymmetricState;
  readonly #s: NoiseKeyPair;
  #e: NoiseKeyPair | null;
  readonly #ownsE: boolean;
  #rs: Uint8Array | null;
  #re: Uint8Array | null = null;
  #step = 0; // messages written or read so far, 0..3
  #failed = false;
  #splitDone = false;

  constructor(initiator: boolean, opts: CommonOptions, remoteStatic: Uint8Array | null) {
    checkLength('noise static secret', opts.staticKey.secret, 32);
    checkLength('noise static public key', opts.staticKey.publicKey, 32);
    if (opts.ephemeral) {
      checkLength('noise ephemeral secret', opts.ephemeral.secret, 32);
      checkLength('noise ephemeral public key', opts.ephemeral.publicKey, 32);
    }
    const prologue = opts.prologue ?? EMPTY;
    if (!(prologue instanceof Uint8Array)) throw new TypeError('noise prologue: expected Uint8Array');
    this.initiator = initiator;
    this.#be = opts.backend ?? nodeBackend;
    this.#s = opts.staticKey;
    this.#e = opts.ephemeral ?? null;
    this.#ownsE = opts.ephemeral === undefined;
    this.#rs = remoteStatic;
    this.#ss = new SymmetricState(PROTOCOL_NAME, this.#be);
    this.#ss.mixHash(prologue);
    // Pre-message `<- s`: both sides hash the responder's static public key.
    this.#ss.mixHash(initiator ? (remoteStatic as Uint8Array) : opts.staticKey.publicKey);
  }

  isComplete(): boolean {
    return this.#step === 3 && !this.#failed;
  }

  /** The handshake hash h, once complete. */
  get handshakeHash(): Uint8Array {
    this.#checkComplete();
    return this.#ss.h;
  }

  /** The peer's static key: the initiator's from the start; the responder's once message 3 is in. */
  get remoteStatic(): Uint8Array {
    if (this.#failed) throw badState('handshake failed');
    if (this.#rs === null) throw badState('remote static key not known yet');
    return this.#rs;
  }

  /** Write our next handshake message carrying `payload`. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    this.#checkTurn(true);
    if (!(payload instanceof Uint8Array)) throw new TypeError('noise payload: expected Uint8Array');
    const overhead = OVERHEAD[this.#step];
    if (payload.length > NOISE_MAX_MESSAGE - overhead)
      throw new CryptoError('MESSAGE_TOO_LARGE', `noise: handshake payload over ${NOISE_MAX_MESSAGE - overhead} bytes`);
    try {
      const out = this.#step === 2 ? this.#write3(payload, overhead) : this.#writeE(payload, overhead);
      this.#advance();
      return out;
    } catch (e) {
      this.#fail();
      throw e;
    }
  }

  /** Read the peer's next handshake message; returns its payload. */
  readMessage(message: Uint8Array): Uint8Array {
    this.#checkTurn(false);
    if (!(message instanceof Uint8Array)) throw new TypeError('noise message: expected Uint8Array');
    try {
      if (message.length > NOISE_MAX_MESSAGE)
        throw new CryptoError('MESSAGE_TOO_LARGE', `noise: message over ${NOISE_MAX_MESSAGE} bytes`);
      if (message.length < OVERHEAD[this.#step])
        throw new CryptoError('BAD_MESSAGE', `noise: message ${this.#step + 1} shorter than ${OVERHEAD[this.#step]} bytes`);
      const payload = this.#step === 2 ? this.#read3(message) : this.#readE(message);
      this.#advance();
      return payload;
    } catch (e) {
      this.#fail();
      throw e;
    }
  }

  /** Split() (§5.2) into the link Transport; allowed once, after message 3. */
  split(): Transport {
    this.#checkComplete();
    if (this.#splitDone) throw badState('split() already called');
    this.#splitDone = true;
    const h = this.#ss.h;
    const [c1, c2] = this.#ss.split();
    const rs = this.#rs as Uint8Array;
    return this.initiator ? new Transport(c1, c2, h, rs) : new Transport(c2, c1, h, rs);
  }

  // Messages 1 and 2: `e` then a DH with it (es for the initiator, ee for the responder).
  #writeE(payload: Uint8Array, overhead: number): Uint8Array {
    const e = (this.#e ??= this.#be.x25519.generate());
    const ss = this.#ss;
    ss.mixHash(e.publicKey);
    ss.mixKey(this.#be.x25519.dh(e.secret, this.initiator ? (this.#rs as Uint8Array) : (this.#re as Uint8Array)));
    const out = new Uint8Array(overhead + payload.length);
    out.set(e.publicKey, 0);
    out.set(ss.encryptAndHash(payload), E_LEN);
    return out;
  }

  #readE(message: Uint8Array): Uint8Array {
    const re = message.slice(0, E_LEN); // our own copy: used again for the ee/se DH
    const ss = this.#ss;
    ss.mixHash(re);
    // Responder (message 1): es = DH(s, re). Initiator (message 2): ee = DH(e, re).
    ss.mixKey(this.#be.x25519.dh(this.initiator ? (this.#e as NoiseKeyPair).secret : this.#s.secret, re));
    this.#re = re;
    return ss.decryptAndHash(message.subarray(E_LEN));
  }

  // Message 3 (initiator): s, se = DH(s, re).
  #write3(payload: Uint8Array, overhead: number): Uint8Array {
    const ss = this.#ss;
    const out = new Uint8Array(overhead + payload.length);
    out.set(ss.encryptAndHash(this.#s.publicKey), 0);
    ss.mixKey(this.#be.x25519.dh(this.#s.secret, this.#re as Uint8Array));
    out.set(ss.encryptAndHash(payload), S_LEN);
    return out;
  }

  // Message 3 (responder): s, se = DH(e, rs).
  #read3(message: Uint8Array): Uint8Array {
    const ss = this.#ss;
    const rs = ss.decryptAndHash(message.subarray(0, S_LEN));
    ss.mixKey(this.#be.x25519.dh((this.#e as NoiseKeyPair).secret, rs));
    const payload = ss.decryptAndHash(message.subarray(S_LEN));
    this.#rs = rs;
    return payload;
  }

  #checkTurn(writing: boolean): void {
    if (this.#failed) throw badState('handshake failed');
    if (this.#step >= 3) throw badState('handshake already complete');
    const initiatorsTurn = this.#step % 2 === 0;
    if (writing !== (initiatorsTurn === this.initiator))
      throw badState(writing ? "cannot write: it is the peer's turn" : 'cannot read: it is our turn to write');
  }

  #checkComplete(): void {
    if (this.#failed) throw badState('handshake failed');
    if (this.#step < 3) throw badState('handshake not complete');
  }

  #advance(): void {
    if (++this.#step === 3) this.#dropEphemeral();
  }

  #fail(): void {
    this.#failed = true;
    this.#ss.wipe();
    this.#dropEphemeral();
  }

  #dropEphemeral(): void {
    if (this.#e !== null && this.#ownsE) wipe(this.#e.secret);
    this.#e = null;
  }
}

export function createInitiator(opts: InitiatorOptions): NoiseHandshake {
  checkLength('noise remote static key', opts.remoteStatic, 32);
  return new NoiseHandshake(true, opts, opts.remoteStatic);
}

export function createResponder(opts: ResponderOptions): NoiseHandshake {
  return new NoiseHandshake(false, opts, null);
}
