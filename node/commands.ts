// The table of CLI commands: name → module. Each command lives in its own file under node/.
import { devnetCommand } from './cmd-devnet.ts';
import { getCommand } from './cmd-get.ts';
import { newkeyCommand } from './cmd-newkey.ts';
import { nodeCommand } from './cmd-node.ts';
import { putCommand } from './cmd-put.ts';
import type { Command } from './flags.ts';

export const commands = new Map<string, Command>([
  ['node', nodeCommand],
  ['devnet', devnetCommand],
  ['put', putCommand],
  ['get', getCommand],
  ['newkey', newkeyCommand],
]);
