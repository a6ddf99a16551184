// Parsing of byte sizes for `--store-size` and the config file: a whole number, an optional
// fraction, then a unit. Strict: `512MiB`, `1GiB`, `1.5GiB`, `100MB`, `4096` (bytes) or `4096B`;
// binary units KiB/MiB/GiB/TiB are powers of 1024, decimal kB/KB/MB/GB/TB powers of 1000. Anything
// else (spaces inside, signs, exponents, unknown units, "1 G") is a CliError with a clear message.

import { CliError, EXIT_USAGE } from '../exit-codes.ts';

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

const SIZE_RE = /^(\d{1,15})(?:\.(\d{1,6}))?([A-Za-z]{0,3})$/;

/** Bytes for a size string (rounded down to a whole byte); CliError EXIT_USAGE if malformed. */
export function parseSize(text: string, what = 'size'): number {
  const m = typeof text === 'string' ? SIZE_RE.exec(text.trim()) : null;
  const unit = m ? UNITS[m[3]] : undefined;
  if (!m || unit === undefined || !Object.hasOwn(UNITS, m[3])) {
    throw new CliError(EXIT_USAGE, `${what}: "${String(text)}" is not a size (examples: 512MiB, 1GiB, 100MB, 65536)`);
  }
  if (m[2] !== undefined && unit === 1) throw new CliError(EXIT_USAGE, `${what}: "${text}": a number of bytes must be whole`);
  const value = Number(`${m[1]}.${m[2] ?? '0'}`) * unit;
  const bytes = Math.floor(value);
  if (!Number.isSafeInteger(bytes)) throw new CliError(EXIT_USAGE, `${what}: "${text}" is too large`);
  return bytes;
}

/** A byte count as the largest binary unit that keeps it readable (for logs and status). */
export function formatSize(bytes: number): string {
  for (const [u, n] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= n) return `${(bytes / n).toFixed(bytes % n === 0 ? 0 : 1)}${u}`;
  }
  return `${bytes}B`;
}
