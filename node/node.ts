// One Umbra node process, assembled in one place (STYLE.md habit 11): data directory and its lock,
// identity, the link manager, the routing core's driver, the gateway; then the files other tools
// read (DIR/contact, DIR/gateway). stop() undoes it all in reverse order.

import fs from 'node:fs';
import path from 'node:path';
import { fromHex, toHex } from '../crypto/bytes.ts';
import { linkKeyFromIdentity } from '../crypto/link-key.ts';
import type { NodeConfig } from './config.ts';
import { formatContact } from './contact.ts';
import { CoreDriver } from './core-driver.ts';
import { removeQuietly, writeFileAtomic } from './files.ts';
import { Gateway, sendJson } from './gateway.ts';
import { loadOrCreateIdentity } from './keyfile.ts';
import { LinkManager } from './link-manager.ts';
import { registerContentRoutes } from './content.ts';
import { open as openDatastore } from './datastore/datastore.ts';
import { type DataDirLock, lockDataDir } from './lockfile.ts';
import { STORE_WATCH_MS, storeFullWarning } from './store-watch.ts';
import type { Logger } from './log.ts';
import { VERSION } from './version.ts';
import type { BlockStore } from '../store/block-store.ts';

export interface RunningNode {
  contact: string;
  gatewayUrl: string;
  nodeId: string;
  stop(): Promise<void>;
}

function advertisedHost(host: string, log: Logger): string {
  if (host === '0.0.0.0' || host === '::') {
    const loop = host === '::' ? '::1' : '127.0.0.1';
    log.warn(`listening on ${host}; advertising ${loop} (no public address is known)`);
    return loop;
  }
  return host;
}

/** Seams for tests that need a misbehaving node (never set by the CLI). */
export interface NodeHooks {
  /** Wraps the datastore the routing core uses: e.g. a store that hands out corrupted blocks. */
  wrapStore?(store: BlockStore): BlockStore;
}

export async function startNode(cfg: NodeConfig, log: Logger, hooks: NodeHooks = {}): Promise<RunningNode> {
  fs.mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const lock: DataDirLock = lockDataDir(cfg.dataDir);
  const cleanup: Array<() => Promise<void> | void> = [() => lock.release()];
  const undo = async () => {
    for (const f of cleanup.reverse()) await f();
  };
  try {
    const { identity, created, insecureMode, path: keyPath } = await loadOrCreateIdentity(cfg.dataDir);
    if (created) log.info('created a new identity', { file: keyPath });
    if (insecureMode) log.warn('identity key file is readable by others; chmod 600 it', { file: keyPath });
    const nodeIdHex = toHex(identity.nodeId);
    let driver: CoreDriver | undefined;

    const links = new LinkManager({
      identityKey: identity.identityPublic,
      nodeId: identity.nodeId,
      linkKey: linkKeyFromIdentity(identity.identitySeed),
      descriptor: () => driver?.self.bytes ?? new Uint8Array(0),
      log: log.child('link'),
      onLinkUp: (peer, _link, desc) => driver?.linkUp(peer, desc),
      onLinkDown: (peer) => driver?.linkDown(peer),
      onMessage: (peer, m) => driver?.message(peer, m),
    });
    const bound = await links.listen(cfg.listen.host, cfg.listen.port);
    cleanup.push(() => links.close());
    const host = advertisedHost(bound.host, log);
    const address = host.includes(':') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`;
    const store = openDatastore(path.join(cfg.dataDir, 'store'), { maxBytes: cfg.storeBytes });
    cleanup.push(() => store.close());
    log.info('datastore open', { blocks: store.stats().store.count + store.stats().cache.count, maxBytes: cfg.storeBytes });
    let storeBefore = store.stats();
    const storeWatch = setInterval(() => {
      const now = store.stats();
      const w = storeFullWarning(storeBefore, now);
      if (w) log.warn(w.message, w.fields);
      storeBefore = now;
    }, STORE_WATCH_MS);
    storeWatch.unref();
    cleanup.push(() => clearInterval(storeWatch));
    driver = new CoreDriver(identity, [address], links, log.child('routing'), hooks.wrapStore ? hooks.wrapStore(store) : store);
    cleanup.push(() => driver?.stop());
    const contact = formatContact({ identityKey: identity.identityPublic, host, port: bound.port });

    const startedAt = Date.now();
    const gateway = new Gateway(log.child('gateway'));
    gateway.route('GET', '/api/v1/status', (_req, res) => {
      const d = driver as CoreDriver;
      sendJson(res, 200, {
        id: nodeIdHex,
        version: VERSION,
        contact,
        address,
        joined: d.joined,
        peers: links.all().map((l) => ({
          id: toHex(l.peerId),
          address: l.remoteAddress,
          direction: l.initiator ? 'out' : 'in',
          seconds: Math.round((performance.now() - l.openedAt) / 1000),
          cellsIn: l.stats.cellsIn,
          cellsOut: l.stats.cellsOut,
          shed: l.stats.shed,
        })),
        routingTable: d.core.table.size,
        uptime: Math.round((Date.now() - startedAt) / 1000),
        routing: d.core.stats(),
        links: links.stats,
        store: store.stats(),
      });
    });
    gateway.route('GET', '/api/v1/lookup', async (_req, res, url) => {
      const keyHex = url.searchParams.get('key') ?? '';
      if (!/^[0-9a-f]{64}$/.test(keyHex)) return sendJson(res, 400, { error: 'key must be 64 lowercase hex digits (a node id or routing key)' });
      const { result, ms } = await (driver as CoreDriver).lookup(fromHex(keyHex));
      if (!result.ok) return sendJson(res, result.reason === 'TIMEOUT' ? 504 : 200, { key: keyHex, ok: false, reason: result.reason, ms });
      sendJson(res, 200, { key: keyHex, ok: true, node: toHex(result.node.id), addresses: result.node.addresses, hops: result.hops, ms });
    });
    registerContentRoutes(gateway, driver, log.child('content'));
    const gatewayUrl = await gateway.listen(cfg.gateway.host, cfg.gateway.port);
    cleanup.push(() => gateway.close());

    const contactFile = path.join(cfg.dataDir, 'contact');
    const gatewayFile = path.join(cfg.dataDir, 'gateway');
    writeFileAtomic(contactFile, contact + '\n');
    writeFileAtomic(gatewayFile, gatewayUrl + '\n');
    cleanup.push(() => {
      removeQuietly(gatewayFile);
    });
    log.info('node listening', { id: nodeIdHex.slice(0, 16), address, gateway: gatewayUrl });
    log.info(`contact ${contact}`);

    void bootstrap(cfg, links, driver, log);

    let stopping: Promise<void> | null = null;
    return {
      contact,
      gatewayUrl,
      nodeId: nodeIdHex,
      stop: () => (stopping ??= undo()),
    };
  } catch (e) {
    await undo();
    throw e;
  }
}

/** Dials every bootstrap contact (retrying with backoff, bounded), then joins through them. */
async function bootstrap(cfg: NodeConfig, links: LinkManager, driver: CoreDriver, log: Logger): Promise<void> {
  if (cfg.bootstrap.length === 0) return;
  const descriptors: Uint8Array[] = [];
  await Promise.all(
    cfg.bootstrap.map(async (c) => {
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          const link = await links.dial(c);
          const d = link.peerDescriptor;
          if (d.length > 0) descriptors.push(d);
          return;
        } catch (e) {
          log.debug('bootstrap dial failed', { to: `${c.host}:${c.port}`, reason: (e as Error).message });
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt).unref());
        }
      }
      log.warn('bootstrap contact unreachable', { to: `${c.host}:${c.port}` });
    }),
  );
  if (descriptors.length > 0) driver.bootstrap(descriptors);
  else log.warn('no bootstrap contact answered; waiting for peers to connect');
}
