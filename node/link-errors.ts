// Typed errors of the link layer, with stable codes; the code is what the log line shows when a
// peer is dropped.

export type LinkErrorCode =
  | 'BAD_FRAME' // a frame of the wrong size, or one that did not decrypt
  | 'BAD_CELL' // an unknown command or malformed cell
  | 'TOO_LARGE' // over a size bound
  | 'HANDSHAKE_FAILED' // the Noise handshake failed or named the wrong identity
  | 'HANDSHAKE_TIMEOUT'
  | 'RATE_LIMITED' // the peer sent faster than its allowance
  | 'OVERLOADED' // our own bounds (links, pending handshakes, send buffer) are full
  | 'CLOSED';

export class LinkError extends Error {
  readonly code: LinkErrorCode;
  constructor(code: LinkErrorCode, message: string) {
    super(message);
    this.name = 'LinkError';
    this.code = code;
  }
}
