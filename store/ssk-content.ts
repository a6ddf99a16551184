// SSK content: a small payload (at most SSK_CONTENT_MAX bytes, typically a CHK URI) published
// under a signed key, updatable by version (DESIGN.md "Store"; crypto/ssk.ts does the block).
// Publishing version n + 1 under the same insert URI supersedes n: stores keep the newest block per
// routing key, and a reader that gets several candidates (from several nodes) keeps the newest
// that verifies, so a stale or forged candidate never wins over a valid newer one.
import type { CryptoBackend } from '../crypto/backend.ts';
import { nodeBackend } from '../crypto/backend-node.ts';
import { sskDecode, sskEncode, sskNewer, sskPubKeyHash, sskRoutingKey } from '../crypto/ssk.ts';
import { KEY_LEN, SSK_CONTENT_MAX } from './constants.ts';
import { checkAborted, StoreError } from './errors.ts';
import { formatUri, parseUri, type SskInsertUri, type SskUri } from './uri.ts';

export interface SskKeyUris {
  insertUri: string; // secret: whoever holds it can publish new versions
  uri: string; // public: whoever holds it can fetch and read
}

function asSsk(uri: string | SskUri): SskUri {
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  if (u.kind !== 'SSK') throw new StoreError('BAD_URI', `expected an SSK URI, got ${u.kind}`);
  return u;
}
function asInsert(uri: string | SskInsertUri): SskInsertUri {
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  if (u.kind !== 'SSK-INSERT') throw new StoreError('BAD_URI', `expected an SSK-INSERT URI, got ${u.kind}`);
  return u;
}

/** The public URI that goes with an insert URI. */
export function sskPublicUri(insertUri: string | SskInsertUri, backend: CryptoBackend = nodeBackend): string {
  const u = asInsert(insertUri);
  const pubKeyHash = sskPubKeyHash(backend.ed25519.publicKey(u.seed), backend);
  return formatUri({ kind: 'SSK', pubKeyHash, cryptoKey: u.cryptoKey, docName: u.docName });
}

/** A fresh key pair for `docName`; `randomBytes` is injected (the core has no randomness of its own). */
export function sskNewUris(docName: string, randomBytes: (n: number) => Uint8Array, backend: CryptoBackend = nodeBackend): SskKeyUris {
  const insertUri = formatUri({ kind: 'SSK-INSERT', seed: randomBytes(KEY_LEN), cryptoKey: randomBytes(KEY_LEN), docName });
  return { insertUri, uri: sskPublicUri(insertUri, backend) };
}

/** The routing key a reader asks the network for. */
export function sskRoutingKeyOf(uri: string | SskUri, backend: CryptoBackend = nodeBackend): Uint8Array {
  const u = asSsk(uri);
  return sskRoutingKey(u.pubKeyHash, u.cryptoKey, u.docName, backend);
}

/** Signs version `version` of `payload`; store the block under the routing key. */
export function sskPublish(
  insertUri: string | SskInsertUri, version: number, payload: Uint8Array, backend: CryptoBackend = nodeBackend,
): { routingKey: Uint8Array; block: Uint8Array } {
  const u = asInsert(insertUri);
  if (!(payload instanceof Uint8Array)) throw new TypeError('sskPublish: payload must be a Uint8Array');
  if (payload.length > SSK_CONTENT_MAX) throw new StoreError('TOO_LARGE', `SSK payload of ${payload.length} bytes is over ${SSK_CONTENT_MAX}`);
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError('sskPublish: version must be a safe non-negative integer');
  return sskEncode({ seed: u.seed, cryptoKey: u.cryptoKey, docName: u.docName, version, payload }, backend);
}

/**
 * The newest candidate that verifies and decrypts under `uri` (and is at least `minVersion`), or
 * null if none does. Invalid candidates (wrong key, forged, corrupt, null) are skipped.
 */
export function sskPickNewest(
  uri: string | SskUri, candidates: Iterable<Uint8Array | null>, minVersion = 0, backend: CryptoBackend = nodeBackend,
): { version: number; payload: Uint8Array } | null {
  const u = asSsk(uri);
  const routingKey = sskRoutingKey(u.pubKeyHash, u.cryptoKey, u.docName, backend);
  let best: Uint8Array | null = null;
  let bestPayload: { version: number; payload: Uint8Array } | null = null;
  for (const block of candidates) {
    if (block === null) continue;
    let d: { version: number; payload: Uint8Array };
    try {
      d = sskDecode({ routingKey, cryptoKey: u.cryptoKey, docName: u.docName, block, minVersion }, backend);
    } catch {
      continue;
    }
    if (best === null || sskNewer(best, block) === block) {
      best = block;
      bestPayload = d;
    }
  }
  return bestPayload;
}

/** Asks `getBlocks` for every candidate under the URI's routing key; NOT_FOUND if none is valid. */
export async function fetchSsk(
  uri: string | SskUri,
  opts: { getBlocks(routingKey: Uint8Array, signal?: AbortSignal): Promise<Iterable<Uint8Array | null>>; minVersion?: number; signal?: AbortSignal; backend?: CryptoBackend },
): Promise<{ version: number; payload: Uint8Array }> {
  const u = asSsk(uri);
  const backend = opts.backend ?? nodeBackend;
  const candidates = await opts.getBlocks(sskRoutingKey(u.pubKeyHash, u.cryptoKey, u.docName, backend), opts.signal);
  checkAborted(opts.signal);
  const r = sskPickNewest(u, candidates, opts.minVersion ?? 0, backend);
  if (r === null) throw new StoreError('NOT_FOUND', `no valid version of ${u.docName} was found`);
  return r;
}
