// Shared by the tests that run real nodes inside the test process (over loopback TCP): start one
// quietly in a directory of its own, remembered so the test's teardown can stop it.
import path from 'node:path';
import { parseContact } from '../../node/contact.ts';
import { createLogger } from '../../node/log.ts';
import { type NodeHooks, type RunningNode, startNode } from '../../node/node.ts';

const quiet = createLogger('error');

export async function startInProcess(
  base: string,
  name: string,
  bootstrap: string[],
  running: RunningNode[],
  hooks: NodeHooks = {},
): Promise<RunningNode> {
  const n = await startNode(
    {
      dataDir: path.join(base, name),
      listen: { host: '127.0.0.1', port: 0 },
      gateway: { host: '127.0.0.1', port: 0 },
      bootstrap: bootstrap.map((c) => parseContact(c)),
      logLevel: 'error',
      storeBytes: 64 * 1024 * 1024,
    },
    quiet,
    hooks,
  );
  running.push(n);
  return n;
}
