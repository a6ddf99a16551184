// Real nodes on loopback (in this process, over TCP), two of which lie: every block their store
// hands out has one bit flipped. Content inserted through an honest node and fetched through
// another comes back byte-identical; the honest nodes catch the bad blocks at the first hop that
// receives them, fetch those blocks through other routes, and lower the liars' standing.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { RunningNode } from '../../node/node.ts';
import { ROUTING_MAX_BAD_BLOCKS } from '../../routing/constants.ts';
import type { BlockStore } from '../../store/block-store.ts';
import { startInProcess } from './in-process.ts';
import { until } from './proc-helpers.ts';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'umbra-liars-'));
const running: RunningNode[] = [];
t.teardown(async () => {
  for (const n of running) await n.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A store that keeps blocks faithfully but hands each one out with a bit flipped. */
function lying(store: BlockStore, served: { n: number }): BlockStore {
  return {
    get(kind, key) {
      const b = store.get(kind, key);
      if (b === undefined) return undefined;
      served.n++;
      const bad = b.slice();
      bad[b.length >> 1] ^= 0x04;
      return bad;
    },
    borrow(kind, key, use) {
      const bad = this.get(kind, key);
      return bad === undefined ? undefined : use(bad);
    },
    has: (kind, key) => store.has(kind, key),
    put: (kind, key, block, role, opts) => store.put(kind, key, block, role, opts),
    stats: () => store.stats(),
    flush: () => store.flush(),
    close: () => store.close(),
  };
}

const start = (name: string, bootstrap: string[], served?: { n: number }): Promise<RunningNode> =>
  startInProcess(base, name, bootstrap, running, served ? { wrapStore: (s) => lying(s, served) } : {});

async function status(n: RunningNode): Promise<any> {
  const r = await fetch(`${n.gatewayUrl}/api/v1/status`, { signal: AbortSignal.timeout(5000) });
  return r.json();
}

t.test('two of seven nodes serve corrupted blocks: the fetch still returns the exact bytes', async (t) => {
  const first = await start('h0', []);
  const honest = [first];
  for (let i = 1; i < 5; i++) honest.push(await start(`h${i}`, [first.contact]));
  const served = { n: 0 };
  const liars = [await start('l0', [first.contact], served), await start('l1', [first.contact], served)];
  const all = [...honest, ...liars];
  const linked = await until(async () => {
    const counts = await Promise.all(all.map(async (n) => (await status(n)).peers.length as number));
    return counts.every((c) => c >= all.length - 1) ? counts : undefined;
  }, 20_000);
  t.ok(linked, 'all seven nodes linked to each other');

  const content = new Uint8Array(randomBytes(3 * 1024 * 1024 + 12_345));
  const ins = await fetch(`${honest[0].gatewayUrl}/api/v1/insert?name=data.bin`, {
    method: 'POST',
    body: content,
    signal: AbortSignal.timeout(60_000),
  });
  t.equal(ins.status, 201, 'inserted through an honest node');
  const { key } = (await ins.json()) as { key: string };

  for (const via of [honest[3], honest[4]]) {
    const r = await fetch(`${via.gatewayUrl}/${key}`, { signal: AbortSignal.timeout(60_000) });
    t.equal(r.status, 200);
    const got = new Uint8Array(await r.arrayBuffer());
    t.ok(Buffer.from(got).equals(content), 'byte-identical despite the liars');
  }

  t.ok(served.n > 0, `the liars handed out ${served.n} corrupted blocks`);
  const stats = await Promise.all(honest.map(status));
  const caught = stats.reduce((a, s) => a + s.routing.badBlocks, 0);
  t.ok(caught > 0, `honest nodes caught ${caught} bad blocks`);
  const banned = stats.reduce((a, s) => a + s.routing.banned, 0);
  t.ok(banned > 0, `and banned a liar ${banned} times (evicted from the routing table after ${ROUTING_MAX_BAD_BLOCKS} bad blocks)`);
  const liarIds = new Set(liars.map((l) => l.nodeId));
  t.notOk(stats.some((s) => s.routing.banned > 0 && s.routing.badBlocks === 0), 'only nodes that caught bad blocks banned anyone');
  t.comment(`liar ids: ${[...liarIds].map((id) => id.slice(0, 8)).join(', ')}; bad blocks caught per honest node: ${stats.map((s) => s.routing.badBlocks).join(', ')}`);
});
