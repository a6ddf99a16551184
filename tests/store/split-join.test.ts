// Split and join through an in-memory block map: round trips at the size edges, metadata, loss up
// to the design fraction per segment (identical bytes), one more (NOT_ENOUGH_BLOCKS naming the
// segment), corrupted blocks (recovered, never wrong bytes), a manifest tree grown with a small
// node limit, strict manifest decoding, and a constant-memory check.
import t from 'tap';
import { chkEncode } from '../../crypto/chk.ts';
import { BLOCK_LEN, BLOCK_REF_LEN } from '../../store/constants.ts';
import { fetchContent } from '../../store/join.ts';
import { layoutOf, segmentShape } from '../../store/layout.ts';
import { decodeRoot, encodeRoot, sanitizeFileName } from '../../store/manifest.ts';
import { insertContent } from '../../store/split.ts';
import { formatUri } from '../../store/uri.ts';
import { chunks, collect, content, MemStore, prng } from './helpers.ts';

async function insert(data: Uint8Array, opts: Record<string, unknown> = {}) {
  const st = new MemStore();
  const r = await insertContent(chunks(data), { putBlock: (k, b) => st.put(k, b), ...opts });
  return { st, r };
}
async function fetchAll(uri: string, st: MemStore, window?: number) {
  const f = await fetchContent(uri, { getBlock: (k) => st.get(k), window });
  return { meta: f.metadata, bytes: await collect(f.stream) };
}
/** The block refs of every segment, read back through the root (depth-0 manifests only). */
function segments(st: MemStore, uri: string): Uint8Array[] {
  const { routingKey, cryptoKey } = parseKeys(uri);
  const root = decodeRoot(decrypt(st, routingKey, cryptoKey));
  return root.segments as Uint8Array[];
}
import { parseChkUri } from '../../store/uri.ts';
import { chkDecode } from '../../crypto/chk.ts';
const parseKeys = (uri: string) => parseChkUri(uri);
const decrypt = (st: MemStore, rk: Uint8Array, ck: Uint8Array) => chkDecode(rk, ck, st.blocks.get(Buffer.from(rk).toString('hex')) as Uint8Array);
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0; // tap's t.same is slow on MiBs
const refKey = (refs: Uint8Array, i: number) => refs.subarray(i * BLOCK_REF_LEN, i * BLOCK_REF_LEN + 32);

t.test('round trip at the size edges, with metadata', async (t) => {
  for (const n of [0, 1, BLOCK_LEN - 1, BLOCK_LEN, BLOCK_LEN + 1, 32 * BLOCK_LEN, 3 * 1024 * 1024 + 5]) {
    const data = content(n, n);
    const { st, r } = await insert(data, { contentType: 'text/html; charset=utf-8', fileName: '../x/ré sumé.html' });
    t.equal(r.size, n);
    const { meta, bytes } = await fetchAll(r.uri, st);
    t.ok(sameBytes(bytes, data), `${n} bytes`);
    t.equal(meta.size, n);
    t.equal(meta.contentType, 'text/html; charset=utf-8');
    t.equal(meta.fileName, 'ré sumé.html', 'file name reduced to its last component');
    t.equal(r.blocks, st.puts, 'blocks counted');
  }
});

t.test('same content, same URI (convergent)', async (t) => {
  const data = content(100_000, 7);
  t.equal((await insert(data)).r.uri, (await insert(data)).r.uri);
  t.not((await insert(data)).r.uri, (await insert(data, { fileName: 'a' })).r.uri);
});

t.test('losing up to m blocks per segment: identical bytes; m + 1: NOT_ENOUGH_BLOCKS', async (t) => {
  const data = content(5 * 32 * BLOCK_LEN + 12345, 3); // 6 segments, the last one short
  const rnd = prng(11);
  for (let trial = 0; trial < 3; trial++) {
    const { st, r } = await insert(data);
    const segs = segments(st, r.uri);
    const l = layoutOf(data.length, 32, 8);
    segs.forEach((refs, s) => {
      const { data: d, check: c } = segmentShape(l, s);
      const order = Array.from({ length: d + c }, (_, i) => i).sort(() => rnd() - 0.5);
      for (const i of order.slice(0, c)) st.delete(refKey(refs, i));
    });
    t.ok(sameBytes((await fetchAll(r.uri, st)).bytes, data), `trial ${trial}`);
    st.delete(refKey(segs[2], 0) as Uint8Array); // may already be gone: delete one more that is present
    const present = Array.from({ length: 40 }, (_, i) => i).filter((i) => st.has(refKey(segs[2], i)));
    st.delete(refKey(segs[2], present[0]));
    await t.rejects(fetchAll(r.uri, st), { name: 'StoreError', code: 'NOT_ENOUGH_BLOCKS', message: /segment 2/ });
  }
});

t.test('corrupted and substituted blocks are recovered, never returned', async (t) => {
  const data = content(2 * 32 * BLOCK_LEN + 100, 4);
  const { st, r } = await insert(data);
  const segs = segments(st, r.uri);
  const k0 = Buffer.from(refKey(segs[0], 5)).toString('hex');
  const bad = (st.blocks.get(k0) as Uint8Array).slice();
  bad[100] ^= 1;
  st.blocks.set(k0, bad); // flipped bit
  const k1 = Buffer.from(refKey(segs[1], 0)).toString('hex');
  st.blocks.set(k1, chkEncode(content(BLOCK_LEN, 99)).block); // someone else's valid block
  const k2 = Buffer.from(refKey(segs[2], 0)).toString('hex');
  st.blocks.set(k2, new Uint8Array(7)); // wrong length
  t.ok(sameBytes((await fetchAll(r.uri, st)).bytes, data));
});

t.test('only data blocks are asked for when nothing is missing', async (t) => {
  const data = content(32 * BLOCK_LEN, 5);
  const { st, r } = await insert(data);
  st.gets = 0;
  await fetchAll(r.uri, st);
  t.equal(st.gets, 1 + 32, 'root and 32 data blocks');
});

t.test('inconsistent check blocks give BAD_BLOCK, not wrong bytes', async (t) => {
  const data = content(4 * BLOCK_LEN, 6);
  const { st, r } = await insert(data, { k: 4, m: 2 });
  const segs = segments(st, r.uri);
  // A lying inserter: a manifest whose check refs name valid blocks of other data.
  const forged = segs[0].slice();
  for (const i of [4, 5]) {
    const e = chkEncode(content(BLOCK_LEN, 50 + i));
    st.put(e.routingKey, e.block);
    forged.set(e.routingKey, i * BLOCK_REF_LEN);
    forged.set(e.cryptoKey, i * BLOCK_REF_LEN + 32);
  }
  const root = chkEncode(encodeRoot({ size: data.length, k: 4, m: 2, depth: 0 }, { segments: [forged] }));
  st.put(root.routingKey, root.block);
  st.delete(refKey(segs[0], 1));
  const uri = formatUri({ kind: 'CHK', routingKey: root.routingKey, cryptoKey: root.cryptoKey });
  await t.rejects(fetchAll(uri, st), { name: 'StoreError', code: 'BAD_BLOCK' });
});

t.test('a manifest tree: small node limit, many segments', async (t) => {
  const data = content(300 * BLOCK_LEN + 1, 8); // 151 segments of 2+1 blocks
  const { st, r } = await insert(data, { k: 2, m: 1, maxManifestBytes: 1024, window: 3 });
  t.ok(r.metadata.depth >= 2, `depth ${r.metadata.depth}`);
  const { meta, bytes } = await fetchAll(r.uri, st, 5);
  t.equal(meta.depth, r.metadata.depth);
  t.ok(sameBytes(bytes, data));
  // lose one inner manifest node: a clear error
  const { r: r2, st: st2 } = await insert(data, { k: 2, m: 1, maxManifestBytes: 1024 });
  t.equal(r2.uri, r.uri, 'the window does not change the result');
  const rootKeys = parseChkUri(r.uri);
  const root = decodeRoot(decrypt(st2, rootKeys.routingKey, rootKeys.cryptoKey));
  st2.delete((root.children as Uint8Array).subarray(0, 32));
  const f = await fetchContent(r.uri, { getBlock: (k) => st2.get(k) });
  await t.rejects(collect(f.stream), { name: 'StoreError', code: 'NOT_ENOUGH_BLOCKS' });
});

t.test('strict manifests and clear errors', async (t) => {
  const st = new MemStore();
  const uriOf = (plain: Uint8Array) => {
    const e = chkEncode(plain);
    st.put(e.routingKey, e.block);
    return formatUri({ kind: 'CHK', routingKey: e.routingKey, cryptoKey: e.cryptoKey });
  };
  await t.rejects(fetchAll(uriOf(new Uint8Array([0xa0])), st), { name: 'StoreError', code: 'BAD_MANIFEST' }, 'empty map');
  await t.rejects(fetchAll(uriOf(new Uint8Array(10)), st), { name: 'StoreError', code: 'BAD_MANIFEST' }, 'not CBOR');
  // size says 2 segments, the list has 1
  const one = new Uint8Array(3 * BLOCK_REF_LEN);
  await t.rejects(fetchAll(uriOf(encodeRoot({ size: 4 * BLOCK_LEN, k: 2, m: 1, depth: 0 }, { segments: [one] })), st), { code: 'BAD_MANIFEST' });
  // entry of the wrong length
  await t.rejects(fetchAll(uriOf(encodeRoot({ size: 2 * BLOCK_LEN, k: 2, m: 1, depth: 0 }, { segments: [one.subarray(64)] })), st), { code: 'BAD_MANIFEST' });
  t.throws(() => decodeRoot(encodeRoot({ size: 0, k: 2, m: 1, depth: 1 }, { segments: [] })), { code: 'BAD_MANIFEST' }, 'depth/body mismatch');
  t.throws(() => encodeRoot({ size: 0, k: 2, m: 1, depth: 0, fileName: 'a/b' }, { segments: [] }), { code: 'BAD_MANIFEST' });
  await t.rejects(fetchContent(formatUri({ kind: 'CHK', routingKey: new Uint8Array(32), cryptoKey: new Uint8Array(32) }), { getBlock: (k) => st.get(k) }), { code: 'NOT_FOUND' });
  await t.rejects(insertContent([new Uint8Array(1)], { putBlock: async () => {}, contentType: 'nonsense' }), { code: 'BAD_METADATA' });
  t.equal(sanitizeFileName('C:\\dir\\x\u0001y.txt'), 'xy.txt');
  t.equal(sanitizeFileName('dir/'), undefined);
  t.equal(Buffer.byteLength(sanitizeFileName('é'.repeat(300)) as string), 254);
});

t.test('putBlock failures and aborts surface', async (t) => {
  await t.rejects(insertContent(chunks(content(100_000)), { putBlock: async () => { throw new Error('disk full'); } }), { message: 'disk full' });
  const ac = new AbortController();
  ac.abort();
  await t.rejects(insertContent(chunks(content(100_000)), { putBlock: async () => {}, signal: ac.signal }), { code: 'ABORTED' });
});

t.test('split holds constant memory: 64 MiB through a discarding putBlock', async (t) => {
  const chunk = content(1024 * 1024, 1);
  async function* source() {
    for (let i = 0; i < 64; i++) {
      chunk[0] = i; // distinct content per MiB
      yield chunk;
    }
  }
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let peak = 0;
  let n = 0;
  const r = await insertContent(source(), {
    putBlock: async () => {
      if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - base);
    },
  });
  t.equal(r.size, 64 * 1024 * 1024);
  t.ok(peak < 64 * 1024 * 1024, `peak growth ${(peak / 1048576).toFixed(1)} MiB`);
});

t.test('manifest blocks are handed to putBlock as such (the gateway asks more copies of them)', async (t) => {
  const roles = new Map<string, string>();
  const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
  const put = async (k: Uint8Array, _b: Uint8Array, _s?: AbortSignal, role?: string) => void roles.set(hex(k), role ?? 'none');
  const small = await insertContent(chunks(content(3 * BLOCK_LEN + 5)), { putBlock: put });
  const rootKey = hex(parseChkUri(small.uri).routingKey);
  t.equal(roles.get(rootKey), 'manifest', 'the root');
  t.equal([...roles.values()].filter((r) => r === 'data').length, small.blocks - 1, 'every other block is data');
  roles.clear();
  const tree = await insertContent(chunks(content(40 * BLOCK_LEN)), { putBlock: put, k: 2, m: 1, maxManifestBytes: 1024 });
  const manifests = [...roles.values()].filter((r) => r === 'manifest').length;
  t.ok(manifests > 2, `a manifest tree: ${manifests} manifest blocks`);
  t.equal(manifests + [...roles.values()].filter((r) => r === 'data').length, tree.blocks, 'each block has a role');
});
