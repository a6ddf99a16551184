// Typed errors of the crypto layer. One class, stable string codes: the code is what a caller
// (or, translated, a peer or the user) sees. API misuse (wrong argument types or sizes passed by our
// own code) throws TypeError/RangeError instead, as noble does.

export type CryptoErrorCode =
  | 'BAD_KEY' // a key that is the wrong length, not on the curve, or low-order
  | 'BAD_KEY_FILE' // a key file that is truncated, corrupt, or of the wrong kind
  | 'DECRYPT_FAILED' // an AEAD tag did not verify
  | 'BAD_MAC' // a handshake MAC or AUTH value did not verify
  | 'BAD_SIGNATURE' // an Ed25519 signature did not verify
  | 'BAD_MESSAGE' // a handshake or cell message of the wrong size or shape
  | 'BAD_STATE' // a message or call that the current protocol state does not accept
  | 'MESSAGE_TOO_LARGE' // over the protocol's maximum message size
  | 'NONCE_EXHAUSTED' // a transport counter reached its limit; the session must end
  | 'CELL_REJECTED' // a relay cell failed CGO authentication; the circuit must be torn down
  | 'BAD_BLOCK' // a content block that does not match its key
  | 'WRONG_VERSION'; // an SSK block of a version other than the one asked for

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}

export function isCryptoError(e: unknown, code?: CryptoErrorCode): e is CryptoError {
  return e instanceof CryptoError && (code === undefined || e.code === code);
}
