// Hostile input on a live node's link port: random bytes, a truncated handshake, a valid handshake
// followed by junk frames, and a flood of connections. Afterwards the node is up, its gateway
// answers, and an honest node can still join through it and route to it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { nodeBackend } from '../../crypto/backend-node.ts';
import { createInitiator } from '../../crypto/noise.ts';
import { linkKeyFromIdentity, linkPublicFromIdentity } from '../../crypto/link-key.ts';
import { parseContact } from '../../node/contact.ts';
import { encodeFrame } from '../../node/frame-reader.ts';
import { handshakeAsDialer } from '../../node/link-handshake.ts';
import type { RunningNode } from '../../node/node.ts';
import { startInProcess } from './in-process.ts';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-hostile-'));
const running: RunningNode[] = [];
t.teardown(async () => {
  for (const n of running) await n.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const start = (name: string, bootstrap: string[] = []): Promise<RunningNode> => startInProcess(base, name, bootstrap, running);

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

const closed = (s: net.Socket, ms = 7000) =>
  Promise.race([new Promise<boolean>((r) => (s.destroyed ? r(true) : s.once('close', () => r(true)))), sleep(ms).then(() => false)]);

async function status(n: RunningNode): Promise<any> {
  const r = await fetch(`${n.gatewayUrl}/api/v1/status`, { signal: AbortSignal.timeout(5000) });
  return r.json();
}

t.test('the node survives hostile input and keeps serving', async (t) => {
  const victim = await start('victim');
  const { port } = parseContact(victim.contact);
  const victimIdentity = parseContact(victim.contact).identityKey;

  // 1. Random bytes of many sizes: each connection is dropped.
  const junk = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const s = await connect(port);
      s.write(randomBytes(1 + ((i * 977) % 5000)));
      return closed(s);
    }),
  );
  t.ok(junk.every(Boolean), 'every junk connection was closed');

  // 2. A truncated handshake: a valid first message cut short, then silence.
  const me = nodeBackend.x25519.generate();
  const msg1 = createInitiator({ staticKey: me, remoteStatic: linkPublicFromIdentity(victimIdentity) }).writeMessage(Uint8Array.of(1));
  const trunc = await connect(port);
  trunc.write(encodeFrame(msg1).subarray(0, 20));
  t.ok(await closed(trunc), 'a stalled, truncated handshake is dropped by the deadline');

  // 3. A valid handshake, then junk frames.
  const seed = new Uint8Array(randomBytes(32));
  const s3 = await connect(port);
  await handshakeAsDialer(s3, {
    identityKey: nodeBackend.ed25519.publicKey(seed),
    linkKey: linkKeyFromIdentity(seed),
    peerIdentity: victimIdentity,
    timeoutMs: 3000,
  });
  s3.write(encodeFrame(new Uint8Array(randomBytes(600))));
  t.ok(await closed(s3), 'junk after a valid handshake closes the link');

  // 4. A flood of connections, held open and silent.
  const flood = await Promise.all(Array.from({ length: 300 }, () => connect(port)));
  await sleep(300); // let the node accept (and refuse) them
  const st = await status(victim);
  t.ok(st.links.refused > 0, `the flood met the bounds (${st.links.refused} refused)`);
  t.ok(st.links.handshakeFailures >= 3, 'the failed handshakes are counted');
  for (const s of flood) s.destroy();
  await sleep(200);

  // Still serving: an honest node joins through the victim and routes to it.
  const honest = await start('honest', [victim.contact]);
  let route: any;
  for (let i = 0; i < 100 && route?.node !== victim.nodeId; i++) {
    await sleep(100);
    const r = await fetch(`${honest.gatewayUrl}/api/v1/lookup?key=${victim.nodeId}`, { signal: AbortSignal.timeout(5000) });
    route = await r.json();
  }
  t.equal(route?.ok, true, 'an honest node routes to the victim after the attack');
  t.equal(route?.node, victim.nodeId);
  const after = await status(victim);
  t.equal(after.peers.length, 1, 'the victim holds exactly the honest link');
});
