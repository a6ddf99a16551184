// Insert: content of any size, streamed in, cut into 32 KiB CHK data blocks, segment by segment
// erasure-coded (store/erasure.ts), every block CHK-encrypted and handed to putBlock, and the block
// refs written into a manifest tree whose root's CHK URI is the result (DESIGN.md "Store").
//
// Constant memory: one segment buffer (k × 32 KiB) and its m check buffers are reused for the
// whole insert; at most `window` encrypted blocks wait in putBlock calls (backpressure: the reader
// stops until a slot frees); the manifest builder holds one node per tree level.
import type { CryptoBackend } from '../crypto/backend.ts';
import { nodeBackend } from '../crypto/backend-node.ts';
import { chkEncode } from '../crypto/chk.ts';
import { BLOCK_LEN, BLOCK_REF_LEN, DEFAULT_WINDOW, MANIFEST_MAX_BYTES, MAX_CONTENT_SIZE, SEGMENT_CHECK, SEGMENT_DATA } from './constants.ts';
import { cauchyMatrix, erasureEncode } from './erasure.ts';
import { checkAborted, StoreError } from './errors.ts';
import { contentTypeProblem, decodeRoot, ManifestBuilder, sanitizeFileName, type ContentMetadata } from './manifest.ts';
import { formatUri } from './uri.ts';
import { Window } from './window.ts';

export type BlockRole = 'data' | 'manifest';

export interface InsertOptions {
  /** Inserts one encrypted block under its routing key (computed from this very block by chkEncode,
   *  so it need not be checked again); `role` says whether it carries content (data or check) or is
   *  a manifest block, whose loss would lose the whole file (the caller may ask for more copies). */
  putBlock(routingKey: Uint8Array, block: Uint8Array, signal?: AbortSignal, role?: BlockRole): Promise<void>;
  contentType?: string;
  fileName?: string; // sanitized: last path component, no control characters, ≤ 255 bytes
  signal?: AbortSignal;
  window?: number; // putBlock calls in flight (default 16)
  k?: number; // data blocks per segment (default SEGMENT_DATA)
  m?: number; // check blocks per full segment (default SEGMENT_CHECK)
  maxManifestBytes?: number; // tests lower it to grow a manifest tree from little data
  backend?: CryptoBackend;
}

export interface InsertResult {
  uri: string;
  size: number;
  blocks: number; // blocks handed to putBlock: data, check and manifest
  metadata: ContentMetadata;
}

export async function insertContent(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: InsertOptions): Promise<InsertResult> {
  const k = opts.k ?? SEGMENT_DATA, m = opts.m ?? SEGMENT_CHECK;
  cauchyMatrix(k, m); // RangeError on a bad shape, before any work
  const backend = opts.backend ?? nodeBackend;
  const { signal } = opts;
  if (opts.contentType !== undefined && contentTypeProblem(opts.contentType) !== null) {
    throw new StoreError('BAD_METADATA', contentTypeProblem(opts.contentType) as string);
  }
  const fileName = opts.fileName === undefined ? undefined : sanitizeFileName(opts.fileName);
  const win = new Window(opts.window ?? DEFAULT_WINDOW, signal);
  let failure: unknown = null;
  let blocks = 0;

  async function put(plain: Uint8Array, role: BlockRole = 'data'): Promise<Uint8Array> {
    const enc = chkEncode(plain, backend);
    await win.acquire();
    if (failure !== null) {
      win.release();
      throw failure;
    }
    blocks++;
    opts.putBlock(enc.routingKey, enc.block, signal, role).then(
      () => win.release(),
      (e: unknown) => {
        failure ??= e;
        win.release();
      },
    );
    const ref = new Uint8Array(BLOCK_REF_LEN);
    ref.set(enc.routingKey, 0);
    ref.set(enc.cryptoKey, enc.routingKey.length);
    return ref;
  }

  const builder = new ManifestBuilder((plain) => put(plain, 'manifest'), opts.maxManifestBytes ?? MANIFEST_MAX_BYTES);
  const seg = new Uint8Array(k * BLOCK_LEN);
  const checks = Array.from({ length: m }, () => new Uint8Array(BLOCK_LEN));
  let filled = 0;
  let size = 0;

  async function flushSegment(): Promise<void> {
    const data = Math.ceil(filled / BLOCK_LEN);
    const check = Math.ceil((data * m) / k);
    seg.fill(0, filled, data * BLOCK_LEN); // the erasure code sees the last block zero-padded
    const entry = new Uint8Array((data + check) * BLOCK_REF_LEN);
    const dataBlocks = Array.from({ length: data }, (_, j) => seg.subarray(j * BLOCK_LEN, (j + 1) * BLOCK_LEN));
    erasureEncode(dataBlocks, checks.slice(0, check));
    for (let j = 0; j < data; j++) {
      const end = Math.min((j + 1) * BLOCK_LEN, filled);
      entry.set(await put(seg.subarray(j * BLOCK_LEN, end)), j * BLOCK_REF_LEN);
    }
    for (let i = 0; i < check; i++) entry.set(await put(checks[i]), (data + i) * BLOCK_REF_LEN);
    await builder.addSegment(entry);
    filled = 0;
  }

  for await (const chunk of source) {
    checkAborted(signal);
    if (!(chunk instanceof Uint8Array)) throw new TypeError('insertContent: source must yield Uint8Array chunks');
    size += chunk.length;
    if (size > MAX_CONTENT_SIZE) throw new StoreError('TOO_LARGE', `content is over ${MAX_CONTENT_SIZE} bytes`);
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(chunk.length - off, seg.length - filled);
      seg.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === seg.length) await flushSegment();
    }
  }
  if (filled > 0) await flushSegment();
  const meta = { size, k, m, ...(opts.contentType ? { contentType: opts.contentType } : {}), ...(fileName ? { fileName } : {}) };
  const rootPlain = await builder.finish(meta);
  const root = await put(rootPlain, 'manifest');
  await win.idle();
  if (failure !== null) throw failure;
  checkAborted(signal);
  const uri = formatUri({ kind: 'CHK', routingKey: root.slice(0, BLOCK_REF_LEN / 2), cryptoKey: root.slice(BLOCK_REF_LEN / 2) });
  return { uri, size, blocks, metadata: decodeRoot(rootPlain).meta };
}
