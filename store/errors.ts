// Typed errors of the store layer (store/): one class, stable string codes. The code is what the
// CLI, the gateway or a caller sees; the message says what exactly was wrong ("URI checksum does not
// match (mistyped?)", "segment 3: 17 of 48 blocks missing, at least 32 needed"). API misuse by our
// own code (wrong argument types) throws TypeError/RangeError instead. STYLE.md habit 12.

export type StoreErrorCode =
  | 'BAD_URI' // a URI that is not ours, truncated, mistyped (checksum), or has a bad document name
  | 'UNSUPPORTED' // a well-formed URI or manifest of a kind or version this code does not handle
  | 'BAD_MANIFEST' // a manifest block that decodes but is not a consistent manifest
  | 'BAD_BLOCK' // a block that does not match its key, or recovered data inconsistent with its key
  | 'BAD_METADATA' // a content type or file name that cannot be carried
  | 'NOT_ENOUGH_BLOCKS' // too many blocks of a segment (or a manifest block) could not be fetched
  | 'NOT_FOUND' // no valid block at all under a key (SSK fetch)
  | 'TOO_LARGE' // content larger than MAX_CONTENT_SIZE
  | 'ABORTED'; // the caller's AbortSignal fired

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}

/** Throws StoreError ABORTED if the signal has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StoreError('ABORTED', 'operation aborted');
}
