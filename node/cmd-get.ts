// `umbra get KEY`: fetches content by key through a node's gateway, to stdout or -o FILE. The key
// is checked before any traffic; with -o the content goes to a temporary file renamed into place
// only when the whole of it has arrived, so a failed fetch never leaves a truncated FILE behind.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseUri } from '../store/uri.ts';
import { CliError, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { type Command, parseFlags } from './flags.ts';
import { failFromResponse, networkError, resolveGateway } from './gateway-client.ts';

export const getCommand: Command = {
  summary: 'fetch content by key to stdout or a file',
  usage: `Usage: umbra get KEY [-o FILE] [--gateway URL | --data DIR]

Fetches the content with this key (umbra:CHK@… or umbra:SSK@…/name) through a node's gateway and
writes it to stdout, or to FILE with -o (written whole or not at all). Every byte is verified
against the key before it is written. The gateway is --gateway URL, else the one in DIR/gateway,
else http://127.0.0.1:7780.
Exit codes: 0 done, 2 bad key or usage, 3 not found, 4 network or gateway error.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { output: { type: 'string', short: 'o' }, gateway: { type: 'string' }, data: { type: 'string' } },
      true,
    );
    if (positionals.length !== 1) throw new CliError(EXIT_USAGE, 'get takes exactly one KEY');
    const key = (positionals[0] as string).trim();
    try {
      parseUri(key);
    } catch (e) {
      throw new CliError(EXIT_USAGE, `bad key: ${(e as Error).message}`);
    }
    const gateway = resolveGateway(values.gateway, values.data);
    let res: Response;
    try {
      res = await fetch(`${gateway}/${key}`);
    } catch (e) {
      throw networkError(gateway, e);
    }
    if (res.status !== 200 || !res.body) return failFromResponse(res, 'fetch failed');
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    try {
      if (!values.output) {
        await pipeline(source, process.stdout);
        return EXIT_OK;
      }
      const out = path.resolve(values.output);
      const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.part`);
      try {
        await pipeline(source, fs.createWriteStream(tmp, { flags: 'wx' }));
        fs.renameSync(tmp, out);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      return EXIT_OK;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw networkError(gateway, e);
    }
  },
};
