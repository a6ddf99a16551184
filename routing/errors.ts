// Typed errors of the routing layer (routing/): one class, stable string codes, as the wire and
// crypto layers do. Malformed input from a peer (a message or a descriptor) throws RoutingError and
// is dropped by the core without an answer; API misuse by our own code throws TypeError/RangeError.
// DESIGN.md "Wire and code rules"; STYLE.md habit 12.

import { isWireError } from './wire/errors.ts';

export type RoutingErrorCode =
  | 'BAD_MESSAGE' // a routing message that does not decode (unknown type, bad shape, trailing bytes...)
  | 'BAD_DESCRIPTOR' // a node descriptor that does not decode or has a bad field
  | 'BAD_ADDRESS' // a descriptor address that is not "host:port"
  | 'UNSUPPORTED_VERSION' // a descriptor of a protocol version we do not speak
  | 'STALE' // a descriptor older than the maximum age
  | 'FUTURE' // a descriptor dated further ahead of our clock than the allowed skew
  | 'BAD_SIGNATURE' // a descriptor whose signature does not verify
  | 'WRONG_PEER'; // a descriptor presented as the sender's own that belongs to someone else

export class RoutingError extends Error {
  readonly code: RoutingErrorCode;
  constructor(code: RoutingErrorCode, message: string) {
    super(message);
    this.name = 'RoutingError';
    this.code = code;
  }
}

export function isRoutingError(e: unknown, code?: RoutingErrorCode): e is RoutingError {
  return e instanceof RoutingError && (code === undefined || e.code === code);
}

/** Runs a wire decoder, turning its WireError into a RoutingError of the given code. */
export function decodeOr<T>(code: RoutingErrorCode, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (isWireError(e)) throw new RoutingError(code, `${what}: ${e.message} (${e.code})`);
    throw e;
  }
}
