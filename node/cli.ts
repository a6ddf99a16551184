// The `umbra` command line: dispatches to one module per command (registered in commands.ts). Each command parses its own
// flags strictly (unknown flags are usage errors, exit 2) and reports failures as one line on
// stderr with a documented exit code (see node/exit-codes.ts).

import { commands } from './commands.ts';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { VERSION } from './version.ts';

function mainHelp(): string {
  const lines = [
    `umbra ${VERSION}: an anonymous peer-to-peer overlay (onion circuits, key-routed content store)`,
    '',
    'Usage: umbra <command> [options]',
    '       umbra --help | --version',
    '',
    'Commands:',
  ];
  for (const [name, cmd] of [...commands].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
  lines.push(
    '',
    "Run 'umbra <command> --help' for a command's options.",
    '',
    'Exit codes: 0 done, 1 internal error, 2 bad usage or malformed key, 3 not found,',
    '            4 network or gateway error.',
  );
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`umbra ${VERSION}\n`);
    return EXIT_OK;
  }
  const cmd = commands.get(first);
  if (!cmd) {
    process.stderr.write(`umbra: unknown command '${first}' (see 'umbra --help')\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return EXIT_OK;
  }
  return cmd.run(rest);
}

async function runMain(): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`umbra: ${e.message}\n`);
      code = e.exitCode;
    } else {
      process.stderr.write(`umbra: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      code = EXIT_FAILURE;
    }
  }
  process.exitCode = code;
}

const invokedDirectly = process.argv[1] !== undefined && /(?:umbra(?:\.mjs)?|cli\.ts)$/.test(process.argv[1]);
if (invokedDirectly) await runMain();
