// The ntor v3 circuit handshake (Tor proposal 332; tor-spec "Creating and extending circuits",
// section "The ntor-v3 handshake"), PROTOID `ntor3-curve25519-sha3_256-1`, as pure functions:
// bytes in, bytes out, no I/O. The client sends CM encrypted (not forward secret) to the relay's
// onion key B; the relay answers with SM encrypted under the final, forward-secret keys.
//
// Instantiation (proposal 332 appendix A.1), ENCAP(s) = u64be(len(s)) ‖ s, t_x = ENCAP(PROTOID ":x"):
//   H(s, t) = SHA3-256(t ‖ s)            MAC(k, m, t) = SHA3-256(t ‖ ENCAP(k) ‖ m)
//   KDF(s, t) = SHAKE-256(t ‖ s)          ENC(k, m) = AES-256-CTR(k, IV = 0, m)
// Client:  phase1 = KDF(Bx ‖ ID ‖ X ‖ B ‖ PROTOID ‖ ENCAP(VER), t_kdf_phase1) → ENC_K1 ‖ MAC_K1
//          onionskin = ID ‖ B ‖ X ‖ ENC(ENC_K1, CM) ‖ MAC(MAC_K1, ID ‖ B ‖ X ‖ ENC(CM), t_msg_mac)
// Both:    secret_input = xy ‖ xb ‖ ID ‖ B ‖ X ‖ Y ‖ PROTOID ‖ ENCAP(VER)
//          key_seed = H(secret_input, t_key_seed); verify = H(secret_input, t_verify)
//          KDF(key_seed, t_kdf_final) = ENC_K2 (32 bytes) ‖ circuit key stream …
//          AUTH = H(verify ‖ ID ‖ B ‖ Y ‖ X ‖ MSG_MAC ‖ ENCAP(ENC(ENC_K2, SM)) ‖ PROTOID ‖ "Server", t_auth_final)
// Server reply = Y ‖ AUTH ‖ ENC(ENC_K2, SM).
//
// The relay does the cheap checks (length, identity, onion-key lookup) before any Diffie-Hellman, and
// checks MSG_MAC before it decrypts CM, calls the reply callback or makes its ephemeral key.

import type { CryptoBackend } from './backend.ts';
import { nodeBackend } from './backend-node.ts';
import { checkLength, equalBytes, utf8, wipe } from './bytes.ts';
import {
  NTOR3_CLIENT_OVERHEAD,
  NTOR3_ENC_KEY_LEN,
  NTOR3_ID_LEN,
  NTOR3_MAC_LEN,
  NTOR3_PROTOID,
  NTOR3_SERVER_OVERHEAD,
  X25519_KEY_LEN,
} from './constants.ts';
import { CryptoError } from './errors.ts';

export interface Ntor3KeyPair {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

/** A relay's handshake keys: its identity and its onion keys (e.g. current and previous), found by B. */
export interface Ntor3RelayKeys {
  relayId: Uint8Array;
  onionKeys: readonly Ntor3KeyPair[];
}

/**
 * Reads the circuit key stream (SHAKE-256 output after ENC_K2) in order: each call returns the next `n`
 * bytes, so `keyMaterial(80)` twice gives the forward and backward CGO seeds. RangeError past 1 MiB.
 */
export type Ntor3KeyMaterial = (n: number) => Uint8Array;

// --- The tweaked primitives -------------------------------------------------------------------

/** The 64-bit big-endian length prefix of ENCAP. */
function lenPrefix(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(n / 0x100000000));
  dv.setUint32(4, n >>> 0);
  return out;
}

function encap(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + s.length);
  out.set(lenPrefix(s.length), 0);
  out.set(s, 8);
  return out;
}

const PROTOID = utf8(NTOR3_PROTOID);
const tweak = (name: string): Uint8Array => encap(utf8(`${NTOR3_PROTOID}:${name}`));
const T_MSGKDF = tweak('kdf_phase1');
const T_MSGMAC = tweak('msg_mac');
const T_KEY_SEED = tweak('key_seed');
const T_VERIFY = tweak('verify');
const T_FINAL = tweak('kdf_final');
const T_AUTH = tweak('auth_final');
const SERVER = utf8('Server');
const MAC_KEY_LEN = 32;
const MAC_KEY_PREFIX = lenPrefix(MAC_KEY_LEN);
const ZERO_IV = new Uint8Array(16);

// Offsets in secret_input; the variable ENCAP(VER) comes last.
const SI_XY = 0, SI_XB = 32, SI_ID = 64, SI_B = 96, SI_X = 128, SI_Y = 160, SI_PROTOID = 192;
const SI_FIXED = SI_PROTOID + PROTOID.length;

/** ENC_K1 ‖ MAC_K1 from the phase-1 KDF. */
function phase1(be: CryptoBackend, bx: Uint8Array, id: Uint8Array, X: Uint8Array, B: Uint8Array, encVer: Uint8Array) {
  return be.shake256(NTOR3_ENC_KEY_LEN + MAC_KEY_LEN, T_MSGKDF, bx, id, X, B, PROTOID, encVer);
}

/** MSG_MAC over ID ‖ B ‖ X ‖ ENC(CM), which is exactly the onionskin without its MAC. */
function msgMac(be: CryptoBackend, keys1: Uint8Array, covered: Uint8Array): Uint8Array {
  return be.sha3_256(T_MSGMAC, MAC_KEY_PREFIX, keys1.subarray(NTOR3_ENC_KEY_LEN), covered);
}

/** secret_input with xy and Y left zero (they come with the second message). */
function secretInputTemplate(xb: Uint8Array, id: Uint8Array, B: Uint8Array, X: Uint8Array, encVer: Uint8Array) {
  const si = new Uint8Array(SI_FIXED + encVer.length);
  si.set(xb, SI_XB);
  si.set(id, SI_ID);
  si.set(B, SI_B);
  si.set(X, SI_X);
  si.set(PROTOID, SI_PROTOID);
  si.set(encVer, SI_FIXED);
  return si;
}

/** AUTH = H(verify ‖ ID ‖ B ‖ Y ‖ X ‖ MSG_MAC ‖ ENCAP(ENC(SM)) ‖ PROTOID ‖ "Server", t_auth_final). */
function authValue(be: CryptoBackend, si: Uint8Array, mac: Uint8Array, encReply: Uint8Array): Uint8Array {
  const verify = be.sha3_256(T_VERIFY, si);
  const auth = be.sha3_256(
    T_AUTH, verify, si.subarray(SI_ID, SI_X), si.subarray(SI_Y, SI_Y + 32), si.subarray(SI_X, SI_Y),
    mac, lenPrefix(encReply.length), encReply, PROTOID, SERVER,
  );
  wipe(verify);
  return auth;
}

// SHAKE-256 output is computed in blocks of 136 bytes; two blocks cover ENC_K2 and 240 bytes of keys.
const INITIAL_STREAM = 272;
const MAX_KEY_MATERIAL = 1 << 20;

class KeyStream {
  #be: CryptoBackend;
  #seed: Uint8Array;
  #buf: Uint8Array;
  #pos = NTOR3_ENC_KEY_LEN;
  constructor(be: CryptoBackend, seed: Uint8Array) {
    this.#be = be;
    this.#seed = seed;
    this.#buf = be.shake256(INITIAL_STREAM, T_FINAL, seed);
  }
  /** ENC_K2: the first 32 bytes of the stream, used once for SM. */
  encKey(): Uint8Array {
    return this.#buf.subarray(0, NTOR3_ENC_KEY_LEN);
  }
  doneWithEncKey(): void {
    this.#buf.fill(0, 0, NTOR3_ENC_KEY_LEN);
  }
  read(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('ntor3 keyMaterial: n must be a non-negative integer');
    const end = this.#pos + n;
    if (end > MAX_KEY_MATERIAL) throw new RangeError('ntor3 keyMaterial: over 1 MiB of key material');
    if (end > this.#buf.length) {
      wipe(this.#buf);
      this.#buf = this.#be.shake256(Math.max(end, 2 * this.#buf.length), T_FINAL, this.#seed);
      this.#buf.fill(0, 0, this.#pos);
    }
    const out = this.#buf.slice(this.#pos, end);
    this.#buf.fill(0, this.#pos, end);
    this.#pos = end;
    return out;
  }
}

function checkBytes(name: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${name}: expected Uint8Array`);
}

// --- Client ------------------------------------------------------------------------------------

/** The client's secrets between its onionskin and the relay's reply. Opaque; usable once. */
export type Ntor3ClientState = ClientState;

class ClientState {
  #be: CryptoBackend;
  #x: Uint8Array;
  #ownsX: boolean;
  #si: Uint8Array; // secret_input with xy and Y still zero
  #mac: Uint8Array;
  #used = false;
  constructor(be: CryptoBackend, x: Uint8Array, ownsX: boolean, si: Uint8Array, mac: Uint8Array) {
    this.#be = be;
    this.#x = x;
    this.#ownsX = ownsX;
    this.#si = si;
    this.#mac = mac;
  }

  finish(reply: Uint8Array): { serverMessage: Uint8Array; keyMaterial: Ntor3KeyMaterial } {
    if (this.#used) throw new CryptoError('BAD_STATE', 'ntor3: handshake state already used');
    this.#used = true;
    const be = this.#be, si = this.#si;
    try {
      checkBytes('ntor3 server handshake', reply);
      if (reply.length < NTOR3_SERVER_OVERHEAD) throw new CryptoError('BAD_MESSAGE', 'ntor3: server handshake too short');
      const Y = reply.subarray(0, 32);
      const yx = be.x25519.dh(this.#x, Y); // BAD_KEY for a low-order Y
      si.set(yx, SI_XY);
      si.set(Y, SI_Y);
      wipe(yx);
      const encReply = reply.subarray(NTOR3_SERVER_OVERHEAD);
      const auth = authValue(be, si, this.#mac, encReply);
      if (!equalBytes(auth, reply.subarray(32, NTOR3_SERVER_OVERHEAD))) {
        throw new CryptoError('BAD_MAC', 'ntor3: server AUTH does not verify');
      }
      const stream = new KeyStream(be, be.sha3_256(T_KEY_SEED, si));
      const serverMessage = be.aesCtr(stream.encKey(), ZERO_IV, encReply);
      stream.doneWithEncKey();
      return { serverMessage, keyMaterial: (n) => stream.read(n) };
    } finally {
      wipe(si);
      if (this.#ownsX) wipe(this.#x);
    }
  }
}

export interface Ntor3ClientStartOptions {
  relayId: Uint8Array; // ID, 32 bytes
  relayOnionKey: Uint8Array; // B, 32 bytes; pass the same array across handshakes to reuse its imported key
  message: Uint8Array; // CM
  verification: Uint8Array; // VER, shared with the relay
  backend?: CryptoBackend;
  ephemeral?: Ntor3KeyPair; // x, X: for test vectors only
}

/** Builds the client onionskin ID ‖ B ‖ X ‖ ENC(CM) ‖ MSG_MAC. Throws CryptoError BAD_KEY for a low-order B. */
export function ntor3ClientStart(opts: Ntor3ClientStartOptions): { onionskin: Uint8Array; state: Ntor3ClientState } {
  const be = opts.backend ?? nodeBackend;
  const { relayId: id, relayOnionKey: B, message, verification } = opts;
  checkLength('ntor3 relayId', id, NTOR3_ID_LEN);
  checkLength('ntor3 relayOnionKey', B, X25519_KEY_LEN);
  checkBytes('ntor3 message', message);
  checkBytes('ntor3 verification', verification);
  const eph = opts.ephemeral ?? be.x25519.generate();
  checkLength('ntor3 ephemeral secret', eph.secret, X25519_KEY_LEN);
  checkLength('ntor3 ephemeral public key', eph.publicKey, X25519_KEY_LEN);
  const X = eph.publicKey;
  const bx = be.x25519.dh(eph.secret, B);
  const encVer = encap(verification);
  const keys1 = phase1(be, bx, id, X, B, encVer);

  const onionskin = new Uint8Array(NTOR3_CLIENT_OVERHEAD + message.length);
  onionskin.set(id, 0);
  onionskin.set(B, 32);
  onionskin.set(X, 64);
  onionskin.set(be.aesCtr(keys1.subarray(0, NTOR3_ENC_KEY_LEN), ZERO_IV, message), 96);
  const macEnd = onionskin.length - NTOR3_MAC_LEN;
  const mac = msgMac(be, keys1, onionskin.subarray(0, macEnd));
  onionskin.set(mac, macEnd);
  wipe(keys1);

  const si = secretInputTemplate(bx, id, B, X, encVer);
  wipe(bx);
  const state = new ClientState(be, eph.secret, opts.ephemeral === undefined, si, mac);
  return { onionskin, state };
}

/**
 * Checks the relay's reply Y ‖ AUTH ‖ ENC(SM) and returns SM and the circuit key stream. Throws
 * CryptoError BAD_MESSAGE (too short), BAD_KEY (low-order Y), BAD_MAC (AUTH does not verify), or
 * BAD_STATE if this state was already used (any call, successful or not, consumes it).
 */
export function ntor3ClientFinish(
  state: Ntor3ClientState,
  serverHandshake: Uint8Array,
): { serverMessage: Uint8Array; keyMaterial: Ntor3KeyMaterial } {
  if (!(state instanceof ClientState)) throw new TypeError('ntor3ClientFinish: not an Ntor3ClientState');
  return state.finish(serverHandshake);
}

// --- Relay (server) ----------------------------------------------------------------------------

export interface Ntor3ServerHandleOptions {
  onionskin: Uint8Array; // from the network
  keys: Ntor3RelayKeys;
  verification: Uint8Array;
  /** Given CM (after its MAC verified), returns SM; it may throw to refuse the handshake. */
  reply: Uint8Array | ((clientMessage: Uint8Array) => Uint8Array);
  backend?: CryptoBackend;
  ephemeral?: Ntor3KeyPair; // y, Y: for test vectors only
}

/**
 * Answers a client onionskin. Throws CryptoError BAD_MESSAGE (shorter than 128 bytes), BAD_KEY (not our
 * identity, an onion key we do not hold, or a low-order X), or BAD_MAC (MSG_MAC does not verify).
 */
export function ntor3ServerHandle(opts: Ntor3ServerHandleOptions): {
  reply: Uint8Array;
  clientMessage: Uint8Array;
  keyMaterial: Ntor3KeyMaterial;
} {
  const be = opts.backend ?? nodeBackend;
  const { onionskin, keys, verification } = opts;
  checkBytes('ntor3 onionskin', onionskin);
  checkBytes('ntor3 verification', verification);
  checkLength('ntor3 relayId', keys.relayId, NTOR3_ID_LEN);
  if (onionskin.length < NTOR3_CLIENT_OVERHEAD) throw new CryptoError('BAD_MESSAGE', 'ntor3: onionskin too short');
  const id = onionskin.subarray(0, 32);
  const B = onionskin.subarray(32, 64);
  const X = onionskin.subarray(64, 96); // one array for both DHs, so its imported key is reused
  const macEnd = onionskin.length - NTOR3_MAC_LEN;

  // Look at every onion key, so the time does not tell which one matched.
  let key: Ntor3KeyPair | undefined;
  for (const k of keys.onionKeys) if (equalBytes(k.publicKey, B) && key === undefined) key = k;
  if (!equalBytes(id, keys.relayId)) throw new CryptoError('BAD_KEY', 'ntor3: onionskin is for another relay');
  if (key === undefined) throw new CryptoError('BAD_KEY', 'ntor3: unknown onion key');

  const xb = be.x25519.dh(key.secret, X); // BAD_KEY for a low-order X
  const encVer = encap(verification);
  const keys1 = phase1(be, xb, keys.relayId, X, key.publicKey, encVer);
  const mac = msgMac(be, keys1, onionskin.subarray(0, macEnd));
  if (!equalBytes(mac, onionskin.subarray(macEnd))) {
    wipe(keys1, xb);
    throw new CryptoError('BAD_MAC', 'ntor3: client MSG_MAC does not verify');
  }
  const clientMessage = be.aesCtr(keys1.subarray(0, NTOR3_ENC_KEY_LEN), ZERO_IV, onionskin.subarray(96, macEnd));
  wipe(keys1);
  const si = secretInputTemplate(xb, keys.relayId, key.publicKey, X, encVer);
  wipe(xb);

  let serverMessage: Uint8Array;
  try {
    serverMessage = typeof opts.reply === 'function' ? opts.reply(clientMessage) : opts.reply;
    checkBytes('ntor3 server message', serverMessage);
  } catch (e) {
    wipe(si);
    throw e;
  }

  const eph = opts.ephemeral ?? be.x25519.generate();
  const xy = be.x25519.dh(eph.secret, X);
  si.set(xy, SI_XY);
  si.set(eph.publicKey, SI_Y);
  wipe(xy);
  if (opts.ephemeral === undefined) wipe(eph.secret);

  const out = new Uint8Array(NTOR3_SERVER_OVERHEAD + serverMessage.length);
  out.set(eph.publicKey, 0);
  const encReply = out.subarray(NTOR3_SERVER_OVERHEAD);
  // ENC_K2 comes from key_seed: encrypt SM first, then AUTH covers its ciphertext.
  const stream = new KeyStream(be, be.sha3_256(T_KEY_SEED, si));
  encReply.set(be.aesCtr(stream.encKey(), ZERO_IV, serverMessage));
  stream.doneWithEncKey();
  out.set(authValue(be, si, mac, encReply), 32);
  wipe(si);
  return { reply: out, clientMessage, keyMaterial: (n) => stream.read(n) };
}
