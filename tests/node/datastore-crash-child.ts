// Child process of the datastore SIGKILL test (tests/node/datastore-crash.test.ts): opens the store
// given on the command line and puts deterministic blocks in a tight loop until it is killed,
// printing its progress. Small bounds so eviction, segment rolls, group commits and compaction all
// happen while it runs. Usage: node --import=tsx datastore-crash-child.ts DIR SEED
import { open } from '../../node/datastore/datastore.ts';
import { chkBlock, sskBlock } from './datastore-fixtures.ts';

export const CRASH_STORE = { maxBytes: 8 * 2 ** 20, segmentBytes: 512 * 2 ** 10, syncMs: 50 };
export const CRASH_MAX_PUTS = 200_000;
export const SSK_DOCS = 16;

if (process.argv[1]?.endsWith('datastore-crash-child.ts')) {
  const [dir, seedText] = process.argv.slice(2);
  const seed = Number(seedText);
  const store = open(dir, CRASH_STORE);
  process.stdout.write('ready\n');
  for (let i = 0; i < CRASH_MAX_PUTS; i++) {
    const c = chkBlock(seed, i);
    store.put('CHK', c.routingKey, c.block, i % 4 === 0 ? 'store' : 'cache');
    if (i % 8 === 0) {
      const s = sskBlock((i >> 3) % SSK_DOCS, seed * CRASH_MAX_PUTS + i);
      store.put('SSK', s.routingKey, s.block, 'store');
    }
    if (i % 64 === 0) process.stdout.write(`${i}\n`);
  }
  store.close();
}
