// The link manager: dial by identity, one link per peer even when both sides dial at once,
// messages by node id, and bounds on unauthenticated connections.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { waitFor } from './proc-helpers.ts';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { toHex } from '../../crypto/bytes.ts';
import { nodeIdOf } from '../../crypto/identity.ts';
import { linkKeyFromIdentity } from '../../crypto/link-key.ts';
import { LinkManager } from '../../node/link-manager.ts';
import { createLogger } from '../../node/log.ts';

function makeManager(opts: { maxPending?: number } = {}) {
  const seed = new Uint8Array(randomBytes(32));
  const identityKey = nodeBackend.ed25519.publicKey(seed);
  const nodeId = nodeIdOf(identityKey);
  const got: Array<{ from: string; m: Uint8Array }> = [];
  const ups: string[] = [];
  const downs: string[] = [];
  const mgr = new LinkManager({
    identityKey,
    nodeId,
    linkKey: linkKeyFromIdentity(seed),
    log: createLogger('error'),
    handshakeTimeoutMs: 500,
    ...opts,
    onLinkUp: (id) => ups.push(toHex(id)),
    onLinkDown: (id) => downs.push(toHex(id)),
    onMessage: (id, m) => got.push({ from: toHex(id), m }),
  });
  return { mgr, identityKey, nodeId, got, ups, downs };
}


t.test('dial, exchange by node id, simultaneous dials leave one link each way', async (t) => {
  const A = makeManager(), B = makeManager();
  const pa = await A.mgr.listen('127.0.0.1', 0);
  const pb = await B.mgr.listen('127.0.0.1', 0);
  await Promise.all([
    A.mgr.dial({ identityKey: B.identityKey, host: '127.0.0.1', port: pb.port }),
    B.mgr.dial({ identityKey: A.identityKey, host: '127.0.0.1', port: pa.port }),
  ]);
  t.ok(await waitFor(() => A.mgr.all().length === 1 && B.mgr.all().length === 1));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(A.mgr.all().length, 1, 'one link at A');
  t.equal(B.mgr.all().length, 1, 'one link at B');
  t.ok(A.mgr.send(B.nodeId, new Uint8Array([1, 2])));
  t.ok(B.mgr.send(A.nodeId, new Uint8Array([3])));
  t.ok(await waitFor(() => A.got.length === 1 && B.got.length === 1));
  t.equal(B.got[0]?.from, toHex(A.nodeId));
  t.same(B.got[0]?.m, new Uint8Array([1, 2]));
  t.same(A.ups, [toHex(B.nodeId)], 'one link-up event');
  await A.mgr.close();
  t.ok(await waitFor(() => B.downs.length === 1), 'peer sees the link go down');
  await B.mgr.close();
});

t.test('dialing a wrong identity fails and backs off', async (t) => {
  const A = makeManager(), B = makeManager(), C = makeManager();
  const pb = await B.mgr.listen('127.0.0.1', 0);
  await t.rejects(A.mgr.dial({ identityKey: C.identityKey, host: '127.0.0.1', port: pb.port }), { name: 'LinkError' });
  await t.rejects(A.mgr.dial({ identityKey: C.identityKey, host: '127.0.0.1', port: pb.port }), { code: 'OVERLOADED' }, 'in backoff');
  await A.mgr.close();
  await B.mgr.close();
});

t.test('silent connections beyond the pending bound are refused; the node keeps serving', async (t) => {
  const A = makeManager(), B = makeManager({ maxPending: 4 });
  const pb = await B.mgr.listen('127.0.0.1', 0);
  const socks = Array.from({ length: 10 }, () => net.connect(pb.port, '127.0.0.1').on('error', () => {}));
  t.ok(await waitFor(() => B.mgr.stats.refused >= 6), 'extra silent connections refused');
  // after the silent ones time out, a real peer gets in
  await new Promise((r) => setTimeout(r, 700));
  await A.mgr.dial({ identityKey: B.identityKey, host: '127.0.0.1', port: pb.port });
  t.ok(await waitFor(() => B.mgr.all().length === 1), 'the real peer is linked');
  socks.forEach((s) => s.destroy());
  await A.mgr.close();
  await B.mgr.close();
});
