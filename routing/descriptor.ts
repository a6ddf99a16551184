// Signed node descriptors: what a node publishes about itself so others can route to it and
// reach it. DESIGN.md layer 3 "Membership"; the fields: identity key (Ed25519), ntor onion
// key (X25519), addresses, protocol version, timestamp, signature.
//
// Wire form (CBOR structs, routing/wire):
//   descriptor = { 0: body (bstr, the CBOR of the body struct), 1: signature (64 bytes) }
//   body       = { 0: protocol version, 1: identity key (32), 2: onion key (32),
//                  3: addresses (1..4 texts "host:port"), 4: timestamp (ms since the epoch) }
//   signature  = Ed25519(identity, "umbra/node-descriptor/v1" ‖ 0x00 ‖ body)
// The body travels as the exact bytes that were signed, so nothing is ever re-encoded to verify.
//
// Parse, then verify (STYLE.md habit 5): decodeDescriptor gives an UncheckedDescriptor;
// checkDescriptor(unchecked, now, verifier) runs the cheap checks first (version, stale, future),
// then the signature, and yields the usable NodeDescriptor with its node id, or throws RoutingError.
// The verifier is injected; DescriptorCache memoises decode + signature + id by the exact bytes,
// so a descriptor seen again (peer exchange repeats them) costs a map lookup and the time checks.

import type { Ed25519 } from '../crypto/backend.ts';
import { nodeBackend } from '../crypto/backend-node.ts';
import { concat, utf8 } from '../crypto/bytes.ts';
import { ED25519_SIG_LEN } from '../crypto/constants.ts';
import { nodeIdOf, type NodeIdentity } from '../crypto/identity.ts';
import {
  DESCRIPTOR_ADDRESS_MAX_LEN,
  DESCRIPTOR_MAX_ADDRESSES,
  DESCRIPTOR_MAX_AGE_MS,
  DESCRIPTOR_MAX_LEN,
  DESCRIPTOR_MAX_SKEW_MS,
  DESCRIPTOR_SIG_LABEL,
  KEY_LEN,
  ROUTING_MAX_VERSION,
  ROUTING_MIN_VERSION,
  ROUTING_PROTOCOL_VERSION,
} from './constants.ts';
import { decodeOr, RoutingError } from './errors.ts';
import type { NodeId } from './keyspace.ts';
import { array, bytes, codec, struct, text, uint } from './wire/schema.ts';

export interface DescriptorFields {
  readonly protocolVersion: number;
  readonly identityKey: Uint8Array; // Ed25519 public key, 32 bytes
  readonly onionKey: Uint8Array; // X25519 public key, 32 bytes
  readonly addresses: readonly string[]; // 1..4 of "host:port"
  readonly timestamp: number; // ms since the Unix epoch, when it was signed
}

/** A decoded descriptor whose signature and times have not been checked: do not use it yet. */
export interface UncheckedDescriptor extends DescriptorFields {
  readonly body: Uint8Array; // the signed bytes
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array; // the whole encoding, as received
}

/** A checked descriptor: well-formed, fresh, validly signed; `id` is the node's key-space location. */
export interface NodeDescriptor extends DescriptorFields {
  readonly id: NodeId;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array; // the exact encoding, forwarded as is in peer exchange
}

export type SignatureVerifier = Pick<Ed25519, 'verify'>;
export type DescriptorSigner = Pick<Ed25519, 'sign'>;

export interface DescriptorTimePolicy {
  maxAgeMs?: number;
  maxSkewMs?: number;
}

const SIG_PREFIX = utf8(DESCRIPTOR_SIG_LABEL + '\0');
const SIG_LEN = ED25519_SIG_LEN;

const Body = codec(
  'NodeDescriptorBody',
  struct({
    protocolVersion: [0, uint({ max: 0xffff })],
    identityKey: [1, bytes({ len: KEY_LEN })],
    onionKey: [2, bytes({ len: KEY_LEN })],
    addresses: [3, array(text({ min: 3, max: DESCRIPTOR_ADDRESS_MAX_LEN }), { min: 1, max: DESCRIPTOR_MAX_ADDRESSES })],
    timestamp: [4, uint()],
  }),
  { maxSize: DESCRIPTOR_MAX_LEN },
);
const Signed = codec(
  'NodeDescriptor',
  struct({ body: [0, bytes({ min: 1, max: DESCRIPTOR_MAX_LEN })], signature: [1, bytes({ len: SIG_LEN })] }),
  { maxSize: DESCRIPTOR_MAX_LEN },
);

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/** True for "host:port" with a DNS name, dotted IPv4 or [IPv6] host and a port in 1..65535. */
export function isValidAddress(a: string): boolean {
  if (typeof a !== 'string' || a.length > DESCRIPTOR_ADDRESS_MAX_LEN) return false;
  const colon = a.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = a.slice(0, colon);
  const port = a.slice(colon + 1);
  if (!PORT.test(port) || Number(port) > 65535) return false;
  return IPV6.test(host) || HOST_NAME.test(host);
}

function checkFields(f: DescriptorFields): void {
  for (const a of f.addresses) {
    if (!isValidAddress(a)) throw new RoutingError('BAD_ADDRESS', `descriptor: bad address ${JSON.stringify(a.slice(0, 64))}`);
  }
}

/** Encodes and signs a descriptor with the identity seed; returns its wire bytes. */
export function signDescriptor(
  fields: DescriptorFields,
  identitySeed: Uint8Array,
  signer: DescriptorSigner = nodeBackend.ed25519,
): Uint8Array {
  if (!Number.isSafeInteger(fields.timestamp) || fields.timestamp < 0) throw new RangeError('signDescriptor: bad timestamp');
  if (!fields.addresses.every(isValidAddress)) throw new RangeError('signDescriptor: bad address');
  const body = Body.encode({
    protocolVersion: fields.protocolVersion,
    identityKey: fields.identityKey,
    onionKey: fields.onionKey,
    addresses: [...fields.addresses],
    timestamp: fields.timestamp,
  });
  const signature = signer.sign(identitySeed, concat(SIG_PREFIX, body));
  return Signed.encode({ body, signature });
}

/**
 * Our own descriptor, signed now with the current protocol version, in the checked form NodeCore
 * takes as `self` (re-sign before DESCRIPTOR_MAX_AGE_MS passes and hand it to setSelfDescriptor).
 */
export function selfDescriptor(
  identity: Pick<NodeIdentity, 'identitySeed' | 'identityPublic' | 'onionPublic'>,
  addresses: readonly string[],
  now: number,
  ed25519: Pick<Ed25519, 'sign' | 'verify'> = nodeBackend.ed25519,
): NodeDescriptor {
  const fields = {
    protocolVersion: ROUTING_PROTOCOL_VERSION,
    identityKey: identity.identityPublic,
    onionKey: identity.onionPublic,
    addresses,
    timestamp: now,
  };
  return checkDescriptor(decodeDescriptor(signDescriptor(fields, identity.identitySeed, ed25519)), now, ed25519);
}

/** Parses a descriptor's bytes (shape, sizes, addresses); nothing is verified yet. */
export function decodeDescriptor(bytes: Uint8Array): UncheckedDescriptor {
  const outer = decodeOr('BAD_DESCRIPTOR', 'descriptor', () => Signed.decode(bytes));
  const body = decodeOr('BAD_DESCRIPTOR', 'descriptor body', () => Body.decode(outer.body));
  const u: UncheckedDescriptor = { ...body, body: outer.body, signature: outer.signature, bytes };
  checkFields(u);
  return u;
}

/** The time and version checks alone (cheap); throws RoutingError. */
export function checkDescriptorTimes(d: DescriptorFields, now: number, policy: DescriptorTimePolicy = {}): void {
  if (d.protocolVersion < ROUTING_MIN_VERSION || d.protocolVersion > ROUTING_MAX_VERSION) {
    throw new RoutingError('UNSUPPORTED_VERSION', `descriptor: protocol version ${d.protocolVersion}`);
  }
  const skew = policy.maxSkewMs ?? DESCRIPTOR_MAX_SKEW_MS;
  const maxAge = policy.maxAgeMs ?? DESCRIPTOR_MAX_AGE_MS;
  if (d.timestamp > now + skew) throw new RoutingError('FUTURE', `descriptor dated ${d.timestamp - now} ms ahead`);
  if (d.timestamp < now - maxAge) throw new RoutingError('STALE', `descriptor ${now - d.timestamp} ms old`);
}

/** Checks version, times (cheap, first) and the signature; gives the usable descriptor. */
export function checkDescriptor(
  u: UncheckedDescriptor,
  now: number,
  verifier: SignatureVerifier = nodeBackend.ed25519,
  policy: DescriptorTimePolicy = {},
): NodeDescriptor {
  checkDescriptorTimes(u, now, policy);
  if (!verifier.verify(u.identityKey, concat(SIG_PREFIX, u.body), u.signature)) {
    throw new RoutingError('BAD_SIGNATURE', 'descriptor: signature does not verify');
  }
  return {
    protocolVersion: u.protocolVersion,
    identityKey: u.identityKey,
    onionKey: u.onionKey,
    addresses: Object.freeze([...u.addresses]),
    timestamp: u.timestamp,
    id: nodeIdOf(u.identityKey),
    signature: u.signature,
    bytes: u.bytes,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** How the routing core turns descriptor bytes from a peer into a usable descriptor. */
export interface DescriptorReader {
  /** Decodes and checks; throws RoutingError on any defect. */
  read(bytes: Uint8Array, now: number): NodeDescriptor;
}

/** Decode + check every time, no memory. */
export function plainReader(verifier: SignatureVerifier = nodeBackend.ed25519, policy: DescriptorTimePolicy = {}): DescriptorReader {
  return { read: (b, now) => checkDescriptor(decodeDescriptor(b), now, verifier, policy) };
}

/**
 * A DescriptorReader that remembers descriptors whose signature verified, keyed by their exact
 * bytes, up to `capacity` (oldest forgotten first). A hit costs a map lookup and the time checks,
 * and returns the same object every time, so tables that hold it share it. Failures are not
 * remembered (a peer could otherwise fill the cache with junk). One cache may serve many cores
 * (the simulator shares one, so each distinct descriptor is really verified once).
 */
export class DescriptorCache implements DescriptorReader {
  // Keyed by 48 bits of the signature (the last 64 bytes of the canonical encoding): no string is
  // built per read. A hit must still match byte for byte, so a collision only costs a full check.
  private readonly map = new Map<number, NodeDescriptor>();
  /** Signature verifications performed (misses that reached the verifier). */
  verifications = 0;
  hits = 0;

  constructor(
    private readonly verifier: SignatureVerifier = nodeBackend.ed25519,
    private readonly capacity = 4096,
    private readonly policy: DescriptorTimePolicy = {},
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('DescriptorCache: bad capacity');
  }

  read(bytes: Uint8Array, now: number): NodeDescriptor {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('DescriptorCache.read expects bytes');
    if (bytes.length > DESCRIPTOR_MAX_LEN || bytes.length < SIG_LEN) throw new RoutingError('BAD_DESCRIPTOR', 'descriptor: bad length');
    const o = bytes.length - SIG_LEN;
    const key = bytes[o] * 2 ** 40 + bytes[o + 1] * 2 ** 32 + ((bytes[o + 2] << 24) | (bytes[o + 3] << 16) | (bytes[o + 4] << 8) | bytes[o + 5]) + 2 ** 31;
    const hit = this.map.get(key);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) {
      this.hits++;
      checkDescriptorTimes(hit, now, this.policy);
      return hit;
    }
    const u = decodeDescriptor(bytes);
    checkDescriptorTimes(u, now, this.policy); // before paying for the signature
    this.verifications++;
    const d = checkDescriptor(u, now, this.verifier, this.policy);
    if (hit === undefined && this.map.size >= this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, d);
    return d;
  }

  get size(): number {
    return this.map.size;
  }
}
