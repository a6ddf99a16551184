// Fetch: the inverse of split.ts. Fetches and verifies the root manifest (so a gateway can send
// Content-Type and Content-Length before any data), then streams the content segment by segment:
// data blocks first, check blocks only when some data blocks are missing or invalid, erasure
// decoding, and plaintext out in order (DESIGN.md "Store").
//
// Never wrong bytes: every block is checked with chkDecode against the refs in the manifest (which
// the URI's keys authenticate); a block that fails counts as missing. Data recovered by the erasure
// code is re-encoded and checked against its own ref too, so inconsistent check blocks from a
// malicious inserter give BAD_BLOCK, not wrong bytes. Memory: the segment being yielded and the
// next one being fetched (about two segments), plus one manifest node per level.
import type { CryptoBackend } from '../crypto/backend.ts';
import { nodeBackend } from '../crypto/backend-node.ts';
import { equalBytes } from '../crypto/bytes.ts';
import { chkDecode, chkEncode } from '../crypto/chk.ts';
import { BLOCK_LEN, BLOCK_REF_LEN, DEFAULT_WINDOW, KEY_LEN } from './constants.ts';
import { erasureDecode } from './erasure.ts';
import { checkAborted, StoreError } from './errors.ts';
import { dataBlockLen, layoutOf, segmentShape, type Layout } from './layout.ts';
import { decodeRoot, walkSegments, type ContentMetadata, type SegmentRefs } from './manifest.ts';
import { parseChkUri, type ChkUri } from './uri.ts';
import { Window } from './window.ts';

export interface FetchOptions {
  /** The block stored under a routing key, or null if none was found. A throw counts as not found. */
  getBlock(routingKey: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | null>;
  window?: number; // getBlock calls in flight (default 16)
  signal?: AbortSignal;
  backend?: CryptoBackend;
}

export interface FetchResult {
  metadata: ContentMetadata;
  stream: AsyncIterable<Uint8Array>;
}

export async function fetchContent(uri: string | ChkUri, opts: FetchOptions): Promise<FetchResult> {
  const key = typeof uri === 'string' ? parseChkUri(uri) : uri;
  const backend = opts.backend ?? nodeBackend;
  const { signal } = opts;
  const win = new Window(opts.window ?? DEFAULT_WINDOW, signal);

  /** The verified plaintext under a ref, or null if it could not be fetched or did not verify. */
  async function getVerified(routingKey: Uint8Array, cryptoKey: Uint8Array): Promise<Uint8Array | null> {
    const block = await win.run(async () => {
      try {
        return await opts.getBlock(routingKey, signal);
      } catch {
        return null;
      }
    });
    checkAborted(signal);
    if (block === null) return null;
    try {
      return chkDecode(routingKey, cryptoKey, block, backend);
    } catch {
      return null;
    }
  }
  const refAt = (refs: Uint8Array, i: number): [Uint8Array, Uint8Array] => {
    const off = i * BLOCK_REF_LEN;
    return [refs.subarray(off, off + KEY_LEN), refs.subarray(off + KEY_LEN, off + BLOCK_REF_LEN)];
  };

  const rootPlain = await getVerified(key.routingKey, key.cryptoKey);
  if (rootPlain === null) throw new StoreError('NOT_FOUND', 'the root manifest block of this URI could not be fetched');
  const root = decodeRoot(rootPlain);
  const layout = layoutOf(root.meta.size, root.meta.k, root.meta.m);

  async function getNode(ref: Uint8Array): Promise<Uint8Array> {
    const plain = await getVerified(ref.subarray(0, KEY_LEN), ref.subarray(KEY_LEN));
    if (plain === null) throw new StoreError('NOT_ENOUGH_BLOCKS', 'a manifest block could not be fetched');
    return plain;
  }

  async function fetchSegment(seg: SegmentRefs): Promise<Uint8Array[]> {
    const s = seg.index;
    const { data, check } = segmentShape(layout, s);
    const slots: (Uint8Array | null)[] = new Array(data + check).fill(null);
    const want = (i: number): number => (i < data ? dataBlockLen(layout, s, i) : BLOCK_LEN);
    const fetchInto = async (idx: number[]): Promise<void> => {
      await Promise.all(idx.map(async (i) => {
        const p = await getVerified(...refAt(seg.refs, i));
        slots[i] = p !== null && p.length === want(i) ? p : null;
      }));
    };
    await fetchInto(Array.from({ length: data }, (_, j) => j));
    let present = slots.filter((b) => b !== null).length;
    let nextCheck = data;
    while (present < data && nextCheck < data + check) {
      const batch: number[] = [];
      while (batch.length < data - present && nextCheck < data + check) batch.push(nextCheck++);
      await fetchInto(batch);
      present = slots.filter((b) => b !== null).length;
    }
    if (present < data) {
      throw new StoreError('NOT_ENOUGH_BLOCKS', `segment ${s}: only ${present} of ${data + check} blocks could be fetched, ${data} needed`);
    }
    if (slots.slice(0, data).every((b) => b !== null)) return slots.slice(0, data) as Uint8Array[];
    return recover(layout, s, slots, data, check, seg.refs, backend);
  }

  async function* stream(): AsyncGenerator<Uint8Array> {
    const segments = walkSegments(root, getNode)[Symbol.asyncIterator]();
    const start = async (): Promise<Uint8Array[] | null> => {
      const r = await segments.next();
      return r.done ? null : fetchSegment(r.value);
    };
    let pending = start();
    for (;;) {
      const blocks = await pending;
      if (blocks === null) return;
      pending = start(); // prefetch the next segment while this one is consumed
      pending.catch(() => {}); // observed when awaited; avoid an unhandled rejection if the reader stops
      for (const b of blocks) if (b.length > 0) yield b;
    }
  }

  return { metadata: root.meta, stream: stream() };
}

function recover(
  layout: Layout, s: number, slots: (Uint8Array | null)[], data: number, check: number, refs: Uint8Array, backend: CryptoBackend,
): Uint8Array[] {
  // The code works on whole blocks: pad a short last data block with zeros, as the inserter did.
  const full = slots.map((b) => {
    if (b === null || b.length === BLOCK_LEN) return b;
    const p = new Uint8Array(BLOCK_LEN);
    p.set(b);
    return p;
  });
  const recovered = erasureDecode(full, data, check, BLOCK_LEN);
  const out = slots.slice(0, data) as (Uint8Array | null)[];
  for (const j of recovered) {
    const plain = (full[j] as Uint8Array).subarray(0, dataBlockLen(layout, s, j));
    const enc = chkEncode(plain, backend);
    const off = j * BLOCK_REF_LEN;
    if (!equalBytes(enc.routingKey, refs.subarray(off, off + KEY_LEN)) || !equalBytes(enc.cryptoKey, refs.subarray(off + KEY_LEN, off + BLOCK_REF_LEN))) {
      throw new StoreError('BAD_BLOCK', `segment ${s}: recovered block ${j} does not match its key (inconsistent check blocks)`);
    }
    out[j] = plain;
  }
  return out as Uint8Array[];
}
