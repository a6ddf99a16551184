// `umbra newkey NAME`: a fresh signed-subspace key pair for a document named NAME, made locally
// (no network). The insert key is secret: whoever holds it can publish new versions; the public key
// is what readers fetch, and it always resolves to the newest version found.
import { randomBytes } from '../crypto/random.ts';
import { sskNewUris } from '../store/ssk-content.ts';
import { docNameProblem } from '../store/uri.ts';
import { CliError, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { type Command, parseFlags } from './flags.ts';

export const newkeyCommand: Command = {
  summary: 'make a key pair for an updatable document (umbra:SSK@…/NAME)',
  usage: `Usage: umbra newkey NAME

Prints two lines: the secret insert key (umbra:SSK-INSERT@…/NAME; keep it private, it publishes new
versions with 'umbra put FILE --ssk KEY --version N') and the public key (umbra:SSK@…/NAME; give it
to readers, 'umbra get' fetches the newest version). NAME: letters, digits and . _ ~ -`,
  async run(argv) {
    const { positionals } = parseFlags(argv, {}, true);
    if (positionals.length !== 1) throw new CliError(EXIT_USAGE, 'newkey takes exactly one NAME');
    const name = positionals[0] as string;
    const problem = docNameProblem(name);
    if (problem) throw new CliError(EXIT_USAGE, `NAME: ${problem}`);
    const { insertUri, uri } = sskNewUris(name, randomBytes);
    process.stdout.write(`insert key (secret): ${insertUri}\npublic key:          ${uri}\n`);
    return EXIT_OK;
  },
};
