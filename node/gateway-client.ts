// How the CLI finds and talks to a node's gateway: --gateway URL, else the URL in DIR/gateway of
// --data DIR, else http://127.0.0.1:7780. Network failures and HTTP errors become CliErrors with
// the documented exit codes (3 not found, 4 network or gateway error, 2 a malformed key).

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_GATEWAY } from './config.ts';
import { CliError, EXIT_NETWORK, EXIT_NOT_FOUND, EXIT_USAGE } from './exit-codes.ts';

export function resolveGateway(flag: string | undefined, dataDir: string | undefined): string {
  let url = flag;
  if (!url && dataDir) {
    const file = path.join(dataDir, 'gateway');
    try {
      url = fs.readFileSync(file, 'utf8').trim();
    } catch {
      throw new CliError(EXIT_NETWORK, `no gateway file at ${file} (is the node running?)`);
    }
  }
  url ??= `http://${DEFAULT_GATEWAY}`;
  if (!/^https?:\/\//.test(url)) url = `http://${url}`;
  try {
    const u = new URL(url);
    return u.origin;
  } catch {
    throw new CliError(EXIT_USAGE, `--gateway: not a URL: '${url}'`);
  }
}

/** Turns a gateway response that is not a success into the CLI's error and exit code. */
export async function failFromResponse(res: Response, what: string): Promise<never> {
  let detail = '';
  try {
    const body = (await res.json()) as { error?: string };
    detail = body.error ?? '';
  } catch {
    /* not JSON */
  }
  const msg = `${what}: ${detail || `HTTP ${res.status}`}`;
  if (res.status === 404) throw new CliError(EXIT_NOT_FOUND, msg);
  if (res.status === 400) throw new CliError(EXIT_USAGE, msg);
  throw new CliError(EXIT_NETWORK, msg);
}

export function networkError(gateway: string, e: unknown): CliError {
  const cause = (e as { cause?: { code?: string } })?.cause?.code ?? (e as Error)?.message ?? String(e);
  return new CliError(EXIT_NETWORK, `cannot reach the gateway at ${gateway} (${cause})`);
}
