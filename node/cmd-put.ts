// `umbra put [FILE|-]`: inserts content through a node's gateway (streamed, any size) and prints
// its key on stdout. The file name and a content type guessed from its extension travel in the
// metadata unless --name/--type say otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CliError, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { type Command, parseFlags } from './flags.ts';
import { failFromResponse, networkError, resolveGateway } from './gateway-client.ts';

const TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
};

export const putCommand: Command = {
  summary: 'insert a file (or stdin) into the network and print its key',
  usage: `Usage: umbra put [FILE|-] [--name NAME] [--type MIME] [--ssk INSERTKEY --version N]
                 [--gateway URL | --data DIR]

Streams FILE (or standard input, with - or no argument) to a node's gateway, which splits it into
encrypted blocks and inserts them; prints the content's key (umbra:CHK@…) on stdout.
With --ssk (a secret key from 'umbra newkey') it also publishes the content as version N of that
document and prints the document's public key (umbra:SSK@…/NAME) instead; a newer version
supersedes older ones. A warning on stderr says when some blocks were stored on fewer nodes than
asked (a small network, or full stores); the key is printed and the exit code is 0 all the same.
The gateway is --gateway URL, else the one in DIR/gateway, else http://127.0.0.1:7780.
Exit codes: 0 done, 2 bad usage, 4 network or gateway error.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        name: { type: 'string' },
        type: { type: 'string' },
        ssk: { type: 'string' },
        version: { type: 'string' },
        gateway: { type: 'string' },
        data: { type: 'string' },
      },
      true,
    );
    if (positionals.length > 1) throw new CliError(EXIT_USAGE, 'put takes at most one FILE');
    const file = positionals[0] ?? '-';
    if ((values.ssk === undefined) !== (values.version === undefined)) {
      throw new CliError(EXIT_USAGE, '--ssk and --version go together');
    }
    if (values.version !== undefined && !/^\d{1,15}$/.test(values.version)) {
      throw new CliError(EXIT_USAGE, `--version: expected a non-negative integer, got '${values.version}'`);
    }
    const gateway = resolveGateway(values.gateway, values.data);
    let body: ReadableStream<Uint8Array>;
    let size: number | undefined;
    if (file === '-') {
      body = Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>;
    } else {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch (e) {
        throw new CliError(EXIT_USAGE, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!st.isFile()) throw new CliError(EXIT_USAGE, `${file} is not a regular file`);
      size = st.size;
      body = Readable.toWeb(fs.createReadStream(file)) as ReadableStream<Uint8Array>;
    }
    const q = new URLSearchParams();
    const name = values.name ?? (file === '-' ? undefined : path.basename(file));
    if (name) q.set('name', name);
    const type = values.type ?? (file === '-' ? undefined : TYPES[path.extname(file).toLowerCase()]);
    if (type) q.set('type', type);
    if (values.ssk !== undefined) {
      q.set('ssk', values.ssk.trim());
      q.set('version', values.version as string);
    }
    let res: Response;
    try {
      res = await fetch(`${gateway}/api/v1/insert${q.size ? `?${q}` : ''}`, {
        method: 'POST',
        body,
        headers: size === undefined ? {} : { 'content-length': String(size) },
        duplex: 'half',
      } as RequestInit);
    } catch (e) {
      throw networkError(gateway, e);
    }
    if (res.status !== 201) return failFromResponse(res, 'insert failed');
    const { key, blocks, copies } = (await res.json()) as { key: string; blocks?: number; copies?: { min?: number; fewer?: number } };
    process.stdout.write(`${key}\n`);
    if (typeof copies?.fewer === 'number' && copies.fewer > 0) {
      process.stderr.write(
        `warning: ${copies.fewer} of ${blocks ?? '?'} blocks were stored on fewer nodes than asked (as few as ${copies.min ?? '?'}); ` +
          'the network may be small or its stores full, so this content is less likely to survive nodes leaving\n',
      );
    }
    return EXIT_OK;
  },
};
