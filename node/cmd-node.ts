// `umbra node`: runs one node until SIGINT/SIGTERM, then shuts down cleanly within 5 s
// (links closed, files flushed, the data-directory lock released).
import { resolveNodeConfig } from './config.ts';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { type Command, parseFlags } from './flags.ts';
import { createLogger } from './log.ts';
import { startNode } from './node.ts';

const SHUTDOWN_DEADLINE_MS = 5_000;

export const nodeCommand: Command = {
  summary: 'run a node (relay, store and client) until interrupted',
  usage: `Usage: umbra node --data DIR [options]

Runs a node in the foreground; logs go to stderr. Once listening it writes DIR/contact (its contact
string, for other nodes' --bootstrap) and DIR/gateway (the gateway's URL). Ctrl-C or SIGTERM stops it.

Options:
  --data DIR            data directory: identity key, lock, contact and gateway files (created if missing)
  --listen HOST:PORT    address for links from other nodes (default 127.0.0.1:7700; port 0 = any free)
  --gateway HOST:PORT   address of the local HTTP gateway (default 127.0.0.1:7780; port 0 = any free)
  --bootstrap CONTACT   a contact string, or a file holding one (such as DIR/contact); repeatable
  --config FILE         a JSON file with any of: data, listen, gateway, bootstrap (array), logLevel, storeSize
  --log-level LEVEL     error, warn, info (default) or debug
  --store-size SIZE     disk budget of the datastore, e.g. 512MiB, 1GiB (default 1GiB)

Flags override the config file. The gateway serves (JSON):
  GET /api/v1/status            id, contact, live peers, routing table size, uptime, counters
  GET /api/v1/lookup?key=HEX    route to the node closest to a 32-byte key: node id, hops, ms`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: 'string' },
      listen: { type: 'string' },
      gateway: { type: 'string' },
      bootstrap: { type: 'string', multiple: true },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'store-size': { type: 'string' },
    });
    const cfg = resolveNodeConfig(values);
    const log = createLogger(cfg.logLevel);
    const node = await startNode(cfg, log);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        log.info(`received ${sig}, shutting down`);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Started by `umbra devnet` (an IPC channel): stop when that parent goes away, however it died.
      if (process.channel) process.once('disconnect', () => onSignal('parent exit'));
    });
    const deadline = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting anyway');
      process.exit(EXIT_FAILURE);
    }, SHUTDOWN_DEADLINE_MS);
    await node.stop();
    clearTimeout(deadline);
    log.info('stopped');
    // Started by `umbra devnet`: an open IPC channel would keep this process alive after a clean stop.
    if (process.connected) process.disconnect();
    return EXIT_OK;
  },
};
