// Shared by the multi-process tests: bounded polling and reading files a node writes.
import fs from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls f every 50 ms until it returns a value, for at most `ms`; undefined on timeout. */
export async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await sleep(50);
  }
  return undefined;
}

/** A file's trimmed text, or undefined while it is missing or empty. */
export function readTrimmed(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Polls cond every 5 ms until it holds, for at most `ms`; whether it held. */
export async function waitFor(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
  return cond();
}
