// Process exit codes of the `umbra` CLI: stable, documented in --help and the README.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1; // an unexpected internal error
export const EXIT_USAGE = 2; // bad usage, a bad flag value, or a malformed key
export const EXIT_NOT_FOUND = 3; // the network does not have the content
export const EXIT_NETWORK = 4; // a network or gateway error

/** An error the CLI reports as one line on stderr and turns into its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
