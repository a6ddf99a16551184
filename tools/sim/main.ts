// `npm run sim -- --nodes N --seed S [--churn F] [--lookups L] [--blocks B] [--corrupt F] [--heal S] [--churn-waves W] [--json]`: runs the routing core
// over the in-memory network and virtual clock (tools/sim/scenario.ts) and prints lookup success
// rate, hops (mean, p50, p99), messages per lookup, wall time and peak memory. With --json the
// last line of output is one JSON object; all of it is a function of the options except `wallMs`
// and `peakRssMiB`, which are kept in their own fields. Progress goes to stderr.

import { formatReport } from './metrics.ts';
import { runSimulation, type SimOptions } from './scenario.ts';

const USAGE = `usage: npm run sim -- --nodes N --seed S [--churn F] [--lookups L] [--blocks B] [--corrupt F] [--heal S] [--churn-waves W] [--json]
  --nodes N       number of nodes (>= 2)
  --seed S        PRNG seed (integer); the same seed gives the same output
  --churn F       fraction of nodes killed abruptly after the network forms (0 <= F < 1; default 0)
  --lookups L     lookups after formation (default 1000)
  --blocks B      insert B CHK blocks from random nodes before churn, fetch each after it (default 0)
  --corrupt F     fraction of live nodes serving corrupted blocks during the fetches (0 <= F < 1)
  --churn-waves W the churn in W equal waves, --heal seconds apart (default 1: all at once)
  --heal S        virtual seconds for repair between the churn and the fetches (default 1.25
                  repair intervals = 750 when --blocks > 0; 0: fetch at once, no repair)
  --window W      block requests in flight at once (default 32)
  --cache C       blocks each node caches (default 100)
  --k K           routing table bucket size (default 16)
  --contacts C    bootstrap contacts per joining node (default 3)
  --quiet         no progress on stderr
  --json          end with one JSON line of the results`;

function parse(argv: string[]): { opts: SimOptions; json: boolean; quiet: boolean } {
  const opts: Partial<SimOptions> = {};
  let json = false, quiet = false;
  const num = (flag: string, v: string | undefined, integer: boolean): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x) || (integer && !Number.isSafeInteger(x))) {
      throw new Error(`${flag} needs ${integer ? 'an integer' : 'a number'}`);
    }
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--nodes': opts.nodes = num(a, argv[++i], true); break;
      case '--seed': opts.seed = num(a, argv[++i], true); break;
      case '--churn': opts.churn = num(a, argv[++i], false); break;
      case '--lookups': opts.lookups = num(a, argv[++i], true); break;
      case '--k': opts.k = num(a, argv[++i], true); break;
      case '--contacts': opts.contacts = num(a, argv[++i], true); break;
      case '--blocks': opts.blocks = num(a, argv[++i], true); break;
      case '--corrupt': opts.corrupt = num(a, argv[++i], false); break;
      case '--window': opts.window = num(a, argv[++i], true); break;
      case '--heal': opts.heal = num(a, argv[++i], false); break;
      case '--churn-waves': opts.churnWaves = num(a, argv[++i], true); break;
      case '--cache': opts.cacheBlocks = num(a, argv[++i], true); break;
      case '--json': json = true; break;
      case '--quiet': quiet = true; break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0);
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (opts.nodes === undefined || opts.seed === undefined) throw new Error('--nodes and --seed are required');
  if (opts.lookups !== undefined && opts.lookups < 0) throw new Error('--lookups must be >= 0');
  return { opts: opts as SimOptions, json, quiet };
}

function main(): void {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sim: ${(e as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const { opts, json, quiet } = parsed;
  const started = performance.now();
  let result;
  try {
    result = runSimulation({ ...opts, log: quiet ? undefined : (l) => process.stderr.write(l + '\n') });
  } catch (e) {
    if (e instanceof RangeError) {
      process.stderr.write(`sim: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  const cost = { wallMs: Math.round(performance.now() - started), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
  for (const line of formatReport(result, cost)) process.stdout.write(line + '\n');
  if (json) process.stdout.write(JSON.stringify({ ...result, ...cost }) + '\n');
}

main();
