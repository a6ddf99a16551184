// Strict flag parsing shared by the CLI commands: unknown flags and bad values are usage errors.
import { parseArgs } from 'node:util';
import { CliError, EXIT_USAGE } from './exit-codes.ts';

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new CliError(EXIT_USAGE, (e as Error).message);
  }
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT); port 0 means "pick a free one". */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new CliError(EXIT_USAGE, `${flag}: expected HOST:PORT, got '${value}'`);
  return { host: (m[1] ?? m[2]) as string, port };
}
