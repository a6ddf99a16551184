// The table of CLI commands: name → module. Each command lives in its own file under node/.
import type { Command } from './flags.ts';

export const commands = new Map<string, Command>([]);
