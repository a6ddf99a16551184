// The simulator's heal phase (repair, routing/repair.ts): after the churn, virtual time passes for
// `seconds` with no user traffic, so the survivors' repair rounds can top up the copies of the
// blocks whose holders died, before the fetches start. It takes a census of the inserted blocks
// before and after (how many still have a live copy in the 'store' role, in any role, and the mean
// number of live 'store' copies) and counts the repair traffic: HAVE, HAVE_REPLY, and the
// STORE_BLOCK copies (ROUTE) with their PUT_REPLY, the only routing messages sent meanwhile.

import { toHex } from '../../crypto/bytes.ts';
import type { MessageType } from '../../routing/messages.ts';
import type { PooledStore } from './block-pool.ts';
import type { VirtualClock } from './clock.ts';
import type { SimNetwork } from './network.ts';
import type { SimNode } from './sim-node.ts';

const REPAIR_TYPES: MessageType[] = ['HAVE', 'HAVE_REPLY', 'ROUTE', 'PUT_REPLY'];

export interface HealEnv {
  clock: VirtualClock;
  net: SimNetwork;
  live: SimNode[];
  stores: PooledStore[]; // by node index
  keys: Uint8Array[]; // CHK routing keys of the inserted blocks
  seconds: number;
  intervalMs: number; // the repair interval, to express traffic per interval
}

export interface HealStats {
  seconds: number;
  storedBefore: number; // blocks with a live 'store'-role copy
  storedAfter: number;
  anyBefore: number; // blocks with a live copy in any role
  anyAfter: number;
  meanStoreCopiesBefore: number;
  meanStoreCopiesAfter: number;
  repairMessages: Partial<Record<MessageType, number>>;
  /** Repair messages (the four types above) per live node per repair interval. */
  repairMessagesPerNodePerInterval: number;
  otherMessages: number; // membership (PING, PEX) meanwhile
}

export function heal(env: HealEnv): HealStats {
  const { clock, net, live, stores } = env;
  const poolKeys = env.keys.map((k) => 'CHK' + toHex(k));
  const before = census(poolKeys, live, stores);
  if (env.seconds <= 0) {
    return { seconds: 0, storedBefore: before.stored, storedAfter: before.stored, anyBefore: before.any, anyAfter: before.any,
      meanStoreCopiesBefore: before.mean, meanStoreCopiesAfter: before.mean, repairMessages: {}, repairMessagesPerNodePerInterval: 0, otherMessages: 0 };
  }
  net.resetCounts();
  clock.runUntil(clock.now() + env.seconds * 1000);
  const after = census(poolKeys, live, stores);
  const repairMessages: HealStats['repairMessages'] = {};
  let repair = 0;
  for (const t of REPAIR_TYPES) {
    const c = net.counts.get(t) ?? 0;
    repairMessages[t] = c;
    repair += c;
  }
  const intervals = (env.seconds * 1000) / env.intervalMs;
  return {
    seconds: env.seconds,
    storedBefore: before.stored,
    storedAfter: after.stored,
    anyBefore: before.any,
    anyAfter: after.any,
    meanStoreCopiesBefore: before.mean,
    meanStoreCopiesAfter: after.mean,
    repairMessages,
    repairMessagesPerNodePerInterval: Math.round((100 * repair) / live.length / intervals) / 100,
    otherMessages: net.sent - repair,
  };
}

function census(poolKeys: string[], live: SimNode[], stores: PooledStore[]): { stored: number; any: number; mean: number } {
  let stored = 0, any = 0, copies = 0;
  for (const k of poolKeys) {
    let s = 0, a = 0;
    for (const node of live) {
      const role = stores[node.index].roleOf(k);
      if (role === 'store') s++;
      if (role !== undefined) a++;
    }
    copies += s;
    if (s > 0) stored++;
    if (a > 0) any++;
  }
  return { stored, any, mean: Math.round((1000 * copies) / Math.max(1, poolKeys.length)) / 1000 };
}
