// `umbra node` configuration: command-line flags over an optional JSON config file (--config),
// over defaults. Every value is checked before anything starts; a bad one is a usage error (exit 2)
// that names the flag or the config key. A --bootstrap value is a contact string or the path of a
// file holding one (such as another node's DIR/contact).

import fs from 'node:fs';
import path from 'node:path';
import { type Contact, ContactError, parseContact } from './contact.ts';
import { CliError, EXIT_USAGE } from './exit-codes.ts';
import { parseHostPort } from './flags.ts';
import { parseSize } from './datastore/size.ts';
import { isLogLevel, type LogLevel } from './log.ts';

export interface NodeConfig {
  dataDir: string;
  listen: { host: string; port: number };
  gateway: { host: string; port: number };
  bootstrap: Contact[];
  logLevel: LogLevel;
  storeBytes: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:7700';
export const DEFAULT_GATEWAY = '127.0.0.1:7780';
export const DEFAULT_STORE_SIZE = '1GiB';
const CONFIG_KEYS = new Set(['data', 'listen', 'gateway', 'bootstrap', 'logLevel', 'storeSize']);
const MAX_CONFIG_BYTES = 1 << 20;

export interface RawNodeFlags {
  data?: string;
  listen?: string;
  gateway?: string;
  bootstrap?: string[];
  config?: string;
  'log-level'?: string;
  'store-size'?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_CONFIG_BYTES) throw new Error('not a regular file of at most 1 MiB');
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(EXIT_USAGE, `--config ${file}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CliError(EXIT_USAGE, `--config ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(EXIT_USAGE, `--config ${file}: expected a JSON object`);
  for (const k of Object.keys(v)) {
    if (!CONFIG_KEYS.has(k)) throw new CliError(EXIT_USAGE, `--config ${file}: unknown key '${k}' (known: ${[...CONFIG_KEYS].join(', ')})`);
  }
  return v as Record<string, unknown>;
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw new CliError(EXIT_USAGE, `${where}: expected a non-empty string`);
  return v;
}

/** A contact string, or a file that holds one (trimmed). */
export function resolveContact(where: string, value: string): Contact {
  const direct = value.trim();
  if (direct.startsWith('umbra:')) {
    try {
      return parseContact(direct);
    } catch (e) {
      throw new CliError(EXIT_USAGE, `${where}: ${(e as ContactError).message}`);
    }
  }
  let text: string;
  try {
    const st = fs.statSync(value);
    if (!st.isFile() || st.size > 4096) throw new Error('not a small regular file');
    text = fs.readFileSync(value, 'utf8');
  } catch (e) {
    throw new CliError(EXIT_USAGE, `${where}: '${value}' is neither a contact string nor a readable contact file (${(e as Error).message})`);
  }
  try {
    return parseContact(text);
  } catch (e) {
    throw new CliError(EXIT_USAGE, `${where}: file ${value}: ${(e as ContactError).message}`);
  }
}

export function resolveNodeConfig(flags: RawNodeFlags): NodeConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const fileDir = flags.config ? path.dirname(path.resolve(flags.config)) : process.cwd();
  const fromFile = (k: string) => (file[k] === undefined ? undefined : str(`--config key '${k}'`, file[k]));

  const data = flags.data ?? (fromFile('data') !== undefined ? path.resolve(fileDir, fromFile('data') as string) : undefined);
  if (!data) throw new CliError(EXIT_USAGE, '--data DIR is required (or "data" in the config file)');

  let bootstrapRaw: string[] = flags.bootstrap ?? [];
  if (bootstrapRaw.length === 0 && file.bootstrap !== undefined) {
    if (!Array.isArray(file.bootstrap) || file.bootstrap.length > 64) {
      throw new CliError(EXIT_USAGE, "--config key 'bootstrap': expected an array of at most 64 contacts");
    }
    bootstrapRaw = file.bootstrap.map((b, i) => str(`--config key 'bootstrap[${i}]'`, b));
  }
  if (bootstrapRaw.length > 64) throw new CliError(EXIT_USAGE, '--bootstrap: at most 64 contacts');

  const level = flags['log-level'] ?? fromFile('logLevel') ?? 'info';
  if (!isLogLevel(level)) throw new CliError(EXIT_USAGE, `--log-level: expected error, warn, info or debug, got '${level}'`);

  return {
    dataDir: path.resolve(data),
    listen: parseHostPort('--listen', flags.listen ?? fromFile('listen') ?? DEFAULT_LISTEN),
    gateway: parseHostPort('--gateway', flags.gateway ?? fromFile('gateway') ?? DEFAULT_GATEWAY),
    bootstrap: bootstrapRaw.map((b) => resolveContact('--bootstrap', b)),
    logLevel: level,
    storeBytes: parseSize(flags['store-size'] ?? fromFile('storeSize') ?? DEFAULT_STORE_SIZE, '--store-size'),
  };
}
