// Manifests: the metadata of content and the tree of block keys under it (DESIGN.md "Store").
// Every node is one CHK block of CBOR (routing/wire, strict: unknown fields, trailing bytes,
// wrong types and lengths are refused). The URI names the root:
//
//   Root  { 0 version, 1 size, 2 k, 3 m, 4 depth, 5 contentType?, 6 fileName?,
//           7 segments (depth 0) | 8 children (depth > 0) }
//   Node  { 0 depth, 1 segments (depth 0) | 2 children (depth > 0) }
//
// A segment entry is the refs (routingKey ‖ cryptoKey, 64 bytes) of its data blocks then its check
// blocks; `children` is the refs of the nodes one level down, in order. When the segment list does
// not fit the root, ManifestBuilder writes full leaves as it goes and index nodes above them, like
// a B-tree built left to right, so an insert holds one node per level in memory, whatever the size.
// The reader (walkSegments) checks the tree against the layout the root's size implies: every
// leaf at depth 0, each entry of the expected length, exactly the expected number of segments.
import { array, bytes, codec, struct, text, uint } from '../routing/wire/schema.ts';
import { isWireError } from '../routing/wire/errors.ts';
import { utf8 } from '../crypto/bytes.ts';
import {
  BLOCK_REF_LEN, CONTENT_TYPE_MAX, FILE_NAME_MAX, GF_MAX_BLOCKS, MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH,
  MANIFEST_MIN_BYTES, MANIFEST_VERSION, MAX_CONTENT_SIZE,
} from './constants.ts';
import { StoreError } from './errors.ts';
import { layoutOf, segmentEntryLen, type Layout } from './layout.ts';

export interface ContentMetadata {
  size: number;
  k: number;
  m: number;
  depth: number;
  contentType?: string;
  fileName?: string;
}

const MAX_ENTRY = GF_MAX_BLOCKS * BLOCK_REF_LEN;
const MAX_ITEMS = Math.floor(MANIFEST_MAX_BYTES / BLOCK_REF_LEN);
const segmentsSchema = array(bytes({ min: BLOCK_REF_LEN, max: MAX_ENTRY }), { max: MAX_ITEMS });
const childrenSchema = bytes({ min: BLOCK_REF_LEN, max: MAX_ITEMS * BLOCK_REF_LEN });
const LIMITS = { maxSize: MANIFEST_MAX_BYTES, maxDepth: 4 };

const RootCodec = codec('ManifestRoot', struct({
  version: [0, uint({ max: 255 })],
  size: [1, uint({ max: MAX_CONTENT_SIZE })],
  k: [2, uint({ min: 1, max: GF_MAX_BLOCKS - 1 })],
  m: [3, uint({ max: GF_MAX_BLOCKS - 1 })],
  depth: [4, uint({ max: MANIFEST_MAX_DEPTH })],
  contentType: [5, text({ min: 1, max: CONTENT_TYPE_MAX })],
  fileName: [6, text({ min: 1, max: FILE_NAME_MAX })],
  segments: [7, segmentsSchema],
  children: [8, childrenSchema],
}, { optional: ['contentType', 'fileName', 'segments', 'children'] }), LIMITS);

const NodeCodec = codec('ManifestNode', struct({
  depth: [0, uint({ max: MANIFEST_MAX_DEPTH })],
  segments: [1, segmentsSchema],
  children: [2, childrenSchema],
}, { optional: ['segments', 'children'] }), LIMITS);

// A content type as in RFC 9110 §8.3 (type/subtype, optional parameters), printable ASCII only.
const CONTENT_TYPE_RE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[ !#-\[\]-~]*"))*$/;
// eslint-disable-next-line no-control-regex
const FILE_NAME_BAD = /[\u0000-\u001f\u007f/\\]/;

function badManifest(message: string): StoreError {
  return new StoreError('BAD_MANIFEST', `manifest: ${message}`);
}

export function contentTypeProblem(t: string): string | null {
  return t.length <= CONTENT_TYPE_MAX && CONTENT_TYPE_RE.test(t) ? null : `content type ${JSON.stringify(t.slice(0, 40))} is not type/subtype`;
}

export function fileNameProblem(n: string): string | null {
  if (n.length === 0 || n === '.' || n === '..') return 'file name is empty, . or ..';
  if (FILE_NAME_BAD.test(n)) return 'file name holds a path separator or a control character';
  if (utf8(n).length > FILE_NAME_MAX) return `file name is longer than ${FILE_NAME_MAX} bytes`;
  return null;
}

/** The last path component, without control characters, cut to FILE_NAME_MAX bytes; undefined if nothing is left. */
export function sanitizeFileName(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  let n = (name.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  while (utf8(n).length > FILE_NAME_MAX) n = Array.from(n).slice(0, -1).join('');
  return fileNameProblem(n) === null ? n : undefined;
}

function checkMeta(meta: ContentMetadata): void {
  if (meta.contentType !== undefined) {
    const p = contentTypeProblem(meta.contentType);
    if (p !== null) throw badManifest(p);
  }
  if (meta.fileName !== undefined) {
    const p = fileNameProblem(meta.fileName);
    if (p !== null) throw badManifest(p);
  }
  if (meta.k + meta.m > GF_MAX_BLOCKS) throw badManifest(`k + m = ${meta.k + meta.m} is over ${GF_MAX_BLOCKS}`);
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isWireError(e)) throw badManifest(`${what}: ${e.message}`);
    throw e;
  }
}

/** Strict decode of a root block's plaintext. */
export function decodeRoot(plain: Uint8Array): { meta: ContentMetadata; segments?: Uint8Array[]; children?: Uint8Array } {
  const r = wrap('root', () => RootCodec.decode(plain));
  if (r.version !== MANIFEST_VERSION) throw new StoreError('UNSUPPORTED', `manifest version ${r.version} is not supported`);
  const { version: _v, segments, children, ...meta } = r;
  checkMeta(meta);
  checkBody('root', meta.depth, segments, children);
  const layout = layoutOf(meta.size, meta.k, meta.m);
  if (segments !== undefined) {
    // A flat manifest is checked whole, before any data is fetched.
    if (segments.length !== layout.segments) throw badManifest(`${segments.length} segments where its size implies ${layout.segments}`);
    segments.forEach((e, s) => {
      if (e.length !== segmentEntryLen(layout, s)) throw badManifest(`segment ${s} entry has the wrong length`);
    });
  } else if ((children as Uint8Array).length / BLOCK_REF_LEN > layout.segments) {
    throw badManifest('more children than segments');
  }
  return { meta, segments, children };
}

function checkBody(what: string, depth: number, segments: Uint8Array[] | undefined, children: Uint8Array | undefined): void {
  if (depth === 0 ? segments === undefined || children !== undefined : children === undefined || segments !== undefined) {
    throw badManifest(`${what} at depth ${depth} must hold ${depth === 0 ? 'segments' : 'children'} only`);
  }
  if (children !== undefined && children.length % BLOCK_REF_LEN !== 0) throw badManifest(`${what}: children not whole refs`);
}

export function encodeRoot(meta: ContentMetadata, body: { segments?: Uint8Array[]; children?: Uint8Array }): Uint8Array {
  checkMeta(meta);
  return RootCodec.encode({ version: MANIFEST_VERSION, ...meta, ...body });
}

function encodeNode(depth: number, items: Uint8Array[]): Uint8Array {
  return NodeCodec.encode(depth === 0 ? { depth, segments: items } : { depth, children: concatRefs(items) });
}

function concatRefs(items: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(items.length * BLOCK_REF_LEN);
  items.forEach((r, i) => out.set(r, i * BLOCK_REF_LEN));
  return out;
}

const NODE_OVERHEAD = 16; // map, labels, depth, array or bytes head: at most 1 + 1 + 2 + 1 + 3 + 1 + 3
const ITEM_OVERHEAD = 3; // a byte string head of up to 65535 bytes
function rootOverhead(meta: Omit<ContentMetadata, 'depth'>): number {
  return 64 + (meta.contentType?.length ?? 0) + utf8(meta.fileName ?? '').length;
}

/**
 * Builds the manifest tree left to right. `emit` stores one node's plaintext as a CHK block and
 * returns its ref (routingKey ‖ cryptoKey). `maxNodeBytes` may be lowered by tests to grow a tree
 * from little data.
 */
export class ManifestBuilder {
  private readonly levels: { items: Uint8Array[]; bytes: number }[] = [{ items: [], bytes: 0 }];
  private readonly max: number;
  constructor(private readonly emit: (plain: Uint8Array) => Promise<Uint8Array>, maxNodeBytes = MANIFEST_MAX_BYTES) {
    if (!Number.isInteger(maxNodeBytes) || maxNodeBytes < MANIFEST_MIN_BYTES || maxNodeBytes > MANIFEST_MAX_BYTES) {
      throw new RangeError(`manifest: node size must be ${MANIFEST_MIN_BYTES}..${MANIFEST_MAX_BYTES}`);
    }
    this.max = maxNodeBytes;
  }

  /** Appends the next segment's entry (its block refs, data then check). */
  async addSegment(entry: Uint8Array): Promise<void> {
    if (entry.length + ITEM_OVERHEAD + NODE_OVERHEAD > this.max) throw new RangeError('manifest: one segment entry does not fit a node');
    await this.push(0, entry);
  }

  private async push(level: number, item: Uint8Array): Promise<void> {
    if (level > MANIFEST_MAX_DEPTH) throw new StoreError('TOO_LARGE', 'manifest tree deeper than allowed');
    const l = (this.levels[level] ??= { items: [], bytes: 0 });
    const cost = level === 0 ? item.length + ITEM_OVERHEAD : item.length;
    if (l.items.length > 0 && NODE_OVERHEAD + l.bytes + cost > this.max) await this.flush(level);
    l.items.push(item);
    l.bytes += cost;
  }

  private async flush(level: number): Promise<void> {
    const l = this.levels[level];
    const plain = encodeNode(level, l.items);
    if (plain.length > this.max) throw new Error('manifest: node estimate was wrong');
    l.items = [];
    l.bytes = 0;
    await this.push(level + 1, await this.emit(plain));
  }

  /** Flushes what is pending and returns the root's plaintext (not yet stored). */
  async finish(meta: Omit<ContentMetadata, 'depth'>): Promise<Uint8Array> {
    for (let level = 0; ; level++) {
      const l = this.levels[level];
      const top = level === this.levels.length - 1;
      if (top && rootOverhead(meta) + l.bytes + NODE_OVERHEAD <= this.max) {
        const body = level === 0 ? { segments: l.items } : { children: concatRefs(l.items) };
        const plain = encodeRoot({ ...meta, depth: level }, body);
        if (plain.length > this.max) throw new Error('manifest: root estimate was wrong');
        return plain;
      }
      if (l.items.length > 0) await this.flush(level);
    }
  }
}

/** One segment's refs, in file order, as the tree walk yields them. */
export interface SegmentRefs {
  index: number;
  refs: Uint8Array; // (data + check) × 64 bytes
}

/**
 * Walks the tree under a decoded root in order, fetching index and leaf nodes with `getNode`
 * (which returns a node's plaintext from its ref, verified), and yields every segment's refs after
 * checking them against the layout. BAD_MANIFEST on any inconsistency.
 */
export async function* walkSegments(
  root: ReturnType<typeof decodeRoot>,
  getNode: (ref: Uint8Array) => Promise<Uint8Array>,
): AsyncGenerator<SegmentRefs> {
  const layout: Layout = layoutOf(root.meta.size, root.meta.k, root.meta.m);
  let next = 0;
  function* leaf(segments: Uint8Array[]): Generator<SegmentRefs> {
    for (const refs of segments) {
      if (next >= layout.segments) throw badManifest(`more than the ${layout.segments} segments its size implies`);
      if (refs.length !== segmentEntryLen(layout, next)) throw badManifest(`segment ${next} entry has the wrong length`);
      yield { index: next++, refs };
    }
  }
  async function* inner(children: Uint8Array, depth: number): AsyncGenerator<SegmentRefs> {
    for (let off = 0; off < children.length; off += BLOCK_REF_LEN) {
      const plain = await getNode(children.subarray(off, off + BLOCK_REF_LEN));
      const n = wrap(`node at depth ${depth - 1}`, () => NodeCodec.decode(plain));
      if (n.depth !== depth - 1) throw badManifest(`node at depth ${n.depth} where ${depth - 1} was expected`);
      checkBody('node', n.depth, n.segments, n.children);
      if (n.depth === 0) {
        if ((n.segments as Uint8Array[]).length === 0) throw badManifest('empty leaf');
        yield* leaf(n.segments as Uint8Array[]);
      } else yield* inner(n.children as Uint8Array, n.depth);
    }
  }
  if (root.meta.depth === 0) yield* leaf(root.segments as Uint8Array[]);
  else yield* inner(root.children as Uint8Array, root.meta.depth);
  if (next !== layout.segments) throw badManifest(`${next} segments where its size implies ${layout.segments}`);
}
