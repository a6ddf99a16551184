// The gateway's content endpoints (FProxy-like): insert content of any size as a stream, and fetch
// it back by key as a stream, every block verified against its key on the way (store/split.ts,
// store/join.ts over the routing core's block requests). Errors map to HTTP statuses: 400 a bad key
// or metadata, 404 not in the network, 413 too large, 503 no route (no peers), 504 timed out.

import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import type { FetchResult, InsertResult } from '../routing/outputs.ts';
import { MANIFEST_BLOCK_COPIES } from '../store/constants.ts';
import { StoreError } from '../store/errors.ts';
import { fetchContent } from '../store/join.ts';
import { contentTypeProblem } from '../store/manifest.ts';
import { insertContent } from '../store/split.ts';
import { sskVersion } from '../crypto/ssk.ts';
import { fetchSsk, sskPublicUri, sskPublish } from '../store/ssk-content.ts';
import { type ChkUri, parseChkUri, parseUri, type SskInsertUri } from '../store/uri.ts';
import type { CoreDriver } from './core-driver.ts';
import { type Gateway, sendJson } from './gateway.ts';
import type { Logger } from './log.ts';

const KEY_PREFIX = '/umbra:';
// Block requests in flight per transfer. Inserts wait for their replicas' acks, so they are
// latency-bound: measured on a 5-node loopback devnet, 20 MiB went in at 7.9 MiB/s with 16 in flight.
// More in flight also means more blocks per socket read and per flush at every node (fewer wakeups,
// frames and system calls per block): a 100 MiB insert into a fresh 10-node network (bench:net),
// side by side, three rounds: 64 → 24.0–25.3 MiB/s (CPU 7.1–7.4 s), 192 → 27.5–28.6 (6.3–6.5 s),
// 256 → 27.0–28.8. 192 stays under a relay's 256 requests per predecessor
// (routing DEFAULT_MAX_REQUESTS_PER_PEER) even when every block goes to one peer. Memory: at most
// 192 encrypted blocks (6 MiB) wait in the gateway per insert.
const INSERT_WINDOW = 192;
const FETCH_WINDOW = 32;

function abortOnClose(req: http.IncomingMessage, res: http.ServerResponse): AbortSignal {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // shared by every block request of this transfer, by design
  const onClose = () => {
    if (!res.writableFinished) ac.abort(new StoreError('ABORTED', 'client went away'));
  };
  res.on('close', onClose);
  req.on('aborted', onClose);
  return ac.signal;
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function registerContentRoutes(gateway: Gateway, driver: CoreDriver, log: Logger): void {
  gateway.route('POST', '/api/v1/insert', async (req, res, url) => {
    const type = url.searchParams.get('type') ?? undefined;
    const name = url.searchParams.get('name') ?? undefined;
    if (type !== undefined && contentTypeProblem(type)) return sendJson(res, 400, { error: `type: ${contentTypeProblem(type)}` });
    let ssk: { insert: SskInsertUri; version: number } | undefined;
    const sskParam = url.searchParams.get('ssk');
    if (sskParam !== null) {
      let insert;
      try {
        insert = parseUri(sskParam);
      } catch (e) {
        return sendJson(res, 400, { error: `ssk: ${(e as Error).message}` });
      }
      if (insert.kind !== 'SSK-INSERT') return sendJson(res, 400, { error: 'ssk: expected an umbra:SSK-INSERT@ key (the secret one)' });
      const version = Number(url.searchParams.get('version'));
      if (url.searchParams.get('version') === null || !Number.isSafeInteger(version) || version < 0) {
        return sendJson(res, 400, { error: 'version: a non-negative integer is required with ssk' });
      }
      ssk = { insert, version };
    }
    const signal = abortOnClose(req, res);
    const failures = new Map<string, number>();
    // How many nodes stored each block, against what was asked: a small network, or stores that
    // refuse blocks, leave content with fewer copies than it should have, and the user is told.
    const copies = { min: Infinity, fewer: 0 };
    const started = Date.now();
    try {
      const r = await insertContent(req, {
        window: INSERT_WINDOW,
        contentType: type,
        fileName: name,
        signal,
        async putBlock(routingKey, block, _signal, role) {
          const asked = role === 'manifest' ? MANIFEST_BLOCK_COPIES : undefined;
          const result: InsertResult = await driver.insertBlock('CHK', routingKey, block, asked, { verified: true }); // split.ts computed the key from the block
          if (!result.ok || result.stored < 1) {
            const reason = result.ok ? 'NOT_STORED' : result.reason;
            failures.set(reason, (failures.get(reason) ?? 0) + 1);
            throw new Error(`block insert failed: ${reason}`);
          }
          copies.min = Math.min(copies.min, result.stored);
          if (result.stored < (asked ?? driver.core.policy.replicas)) copies.fewer++;
        },
      });
      log.info('inserted', { key: r.uri.slice(0, 40), bytes: r.size, blocks: r.blocks, ms: Date.now() - started });
      const stored = { min: Number.isFinite(copies.min) ? copies.min : 0, fewer: copies.fewer };
      if (copies.fewer > 0) log.warn('some blocks have fewer copies than asked', { blocks: r.blocks, ...stored });
      if (!ssk) return sendJson(res, 201, { key: r.uri, size: r.size, blocks: r.blocks, copies: stored });
      // Publish this version of the document: a signed SSK block whose payload is the CHK key.
      const { routingKey, block } = sskPublish(ssk.insert, ssk.version, new TextEncoder().encode(r.uri));
      // First the newest version the closest nodes hold (a fetch asks them all): a store that
      // missed the newer one would otherwise take this older one.
      const held: FetchResult = await driver.fetchBlock('SSK', routingKey);
      const heldVersion = held.ok ? sskVersion(held.block) : -1;
      const samePublished = held.ok && Buffer.from(held.block).equals(block); // published before: nothing to do
      if (heldVersion >= ssk.version && !samePublished) {
        const what = heldVersion > ssk.version ? `a newer version (${heldVersion})` : 'another block under this version';
        return sendJson(res, 409, { error: `version ${ssk.version} was not published: the network already holds ${what}`, content: r.uri });
      }
      const pub = await driver.insertBlock('SSK', routingKey, block);
      if (pub.ok && pub.stored < 1 && !samePublished) {
        // Stores keep the newest version per document and refuse an older or equal one.
        return sendJson(res, 409, { error: `version ${ssk.version} was not stored: the network already holds this or a newer version`, content: r.uri });
      }
      if (!pub.ok) {
        failures.set(pub.reason, (failures.get(pub.reason) ?? 0) + 1);
        throw new Error(`publishing the SSK version failed: ${pub.reason}`);
      }
      sendJson(res, 201, { key: sskPublicUri(ssk.insert), version: ssk.version, content: r.uri, size: r.size, blocks: r.blocks, copies: stored });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof StoreError && e.code === 'BAD_METADATA') return sendJson(res, 400, { error: e.message });
      if (e instanceof StoreError && e.code === 'TOO_LARGE') return sendJson(res, 413, { error: e.message });
      const timeouts = failures.get('TIMEOUT') ?? 0;
      const status = failures.size === 0 ? 500 : timeouts > 0 ? 504 : 503;
      log.warn('insert failed', { error: e, failures: Object.fromEntries(failures) });
      sendJson(res, status, { error: `insert failed: ${(e as Error).message}`, failures: Object.fromEntries(failures) });
    }
  });

  gateway.routePrefix('GET', KEY_PREFIX, async (req, res, url) => {
    const key = decodeURIComponent(url.pathname.slice(1));
    let uri;
    try {
      uri = parseUri(key);
    } catch (e) {
      return sendJson(res, 400, { error: `bad key: ${(e as Error).message}` });
    }
    if (uri.kind === 'SSK-INSERT') return sendJson(res, 400, { error: 'that is a secret insert key; fetch with its public umbra:SSK@ key' });
    const signal = abortOnClose(req, res);
    let timeouts = 0;
    let fetched;
    try {
      let chk: ChkUri;
      if (uri.kind === 'SSK') {
        // The newest version the network returns, verified and decrypted; its payload is a CHK key.
        const doc = await fetchSsk(uri, {
          signal,
          async getBlocks(routingKey) {
            const r: FetchResult = await driver.fetchBlock('SSK', routingKey);
            if (!r.ok && r.reason === 'TIMEOUT') timeouts++;
            return [r.ok ? r.block : null];
          },
        });
        try {
          chk = parseChkUri(new TextDecoder('utf-8', { fatal: true }).decode(doc.payload));
        } catch {
          return sendJson(res, 502, { error: 'the document does not point at content this version can read' });
        }
        res.setHeader('x-umbra-version', String(doc.version));
      } else {
        chk = uri;
      }
      fetched = await fetchContent(chk, {
        signal,
        window: FETCH_WINDOW,
        async getBlock(routingKey) {
          const r: FetchResult = await driver.fetchBlock('CHK', routingKey);
          if (r.ok) return r.block;
          if (r.reason === 'TIMEOUT') timeouts++;
          return null;
        },
      });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof StoreError && (e.code === 'NOT_ENOUGH_BLOCKS' || e.code === 'NOT_FOUND')) {
        return sendJson(res, timeouts > 0 ? 504 : 404, { error: timeouts > 0 ? 'the search timed out' : 'not found in the network' });
      }
      if (e instanceof StoreError) return sendJson(res, 400, { error: e.message });
      throw e;
    }
    const { metadata, stream } = fetched;
    const headers: Record<string, string> = {
      'content-type': metadata.contentType ?? 'application/octet-stream',
      'content-length': String(metadata.size),
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, max-age=31536000, immutable',
    };
    if (metadata.fileName) headers['content-disposition'] = contentDisposition(metadata.fileName);
    res.writeHead(200, headers);
    try {
      for await (const chunk of stream) {
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
      }
      res.end();
    } catch (e) {
      // Headers are out: all we can do is cut the response short, so the client sees it failed.
      log.warn('fetch failed mid-stream', { key: key.slice(0, 40), error: e });
      res.destroy();
    }
  });
}
