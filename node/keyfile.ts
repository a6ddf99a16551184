// The key file on disk: the I/O shell around the pure codec in crypto/identity.ts.
//
// Writes are atomic and private: a temp file in the same directory, created with mode 0600 (and
// chmod'ed to exactly 0600 whatever the umask), fsync'ed, then moved into place (link(2) when the
// target must not exist, so two racing creators cannot clobber each other; rename(2) to replace),
// and the directory fsync'ed so the new name survives a crash. A key file that fails validation is
// an error naming its path; it is never silently replaced by a new identity.

import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { toHex, wipe } from '../crypto/bytes.ts';
import { randomBytes } from '../crypto/random.ts';
import { KEYFILE_NODE_IDENTITY_LEN } from '../crypto/constants.ts';
import { CryptoError, isCryptoError } from '../crypto/errors.ts';
import { decodeKeyFile, encodeKeyFile, generateIdentity, type NodeIdentity } from '../crypto/identity.ts';

export const IDENTITY_FILE = 'identity.key';
const KEY_FILE_MODE = 0o600;
const DATA_DIR_MODE = 0o700;
/** Anything much larger than a key file is refused before it is read. */
const MAX_KEY_FILE_SIZE = 4 * KEYFILE_NODE_IDENTITY_LEN;
const IS_WINDOWS = process.platform === 'win32';

export interface WriteKeyFileOptions {
  /** Replace an existing file (default false: an existing file is an EEXIST error). */
  overwrite?: boolean;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

function existsError(path: string): Error {
  return Object.assign(new Error(`${path}: a key file already exists; refusing to overwrite it`), {
    code: 'EEXIST',
    path,
  });
}

async function fsyncDir(dir: string): Promise<void> {
  if (IS_WINDOWS) return; // directories cannot be opened for fsync there
  const h = await fs.open(dir, fsc.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Atomically create `path` holding `bytes`, readable and writable by the owner only. */
export async function writeKeyFile(path: string, bytes: Uint8Array, opts: WriteKeyFileOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${toHex(randomBytes(6))}.tmp`);
  const h = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, KEY_FILE_MODE);
  let placed = false;
  try {
    try {
      await h.chmod(KEY_FILE_MODE); // the umask may have cleared owner bits; make it exactly 0600
      await h.writeFile(bytes);
      await h.sync();
    } finally {
      await h.close();
    }
    if (opts.overwrite) {
      await fs.rename(tmp, path);
      placed = true;
    } else {
      try {
        await fs.link(tmp, path); // fails with EEXIST instead of replacing
      } catch (e) {
        if (errno(e) === 'EEXIST') throw existsError(path);
        // A filesystem without hard links: check, then rename (racy only against ourselves).
        if (await fs.lstat(path).then(() => true, () => false)) throw existsError(path);
        await fs.rename(tmp, path);
        placed = true;
      }
    }
  } finally {
    if (!placed) await fs.unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
}

export interface LoadedIdentity {
  identity: NodeIdentity;
  path: string;
  /** True when this call generated the identity and wrote the file. */
  created: boolean;
  /** True when the file grants any permission to group or others (it should be 0600). */
  insecureMode: boolean;
}

/** Read and validate a key file; a defect is CryptoError BAD_KEY_FILE whose message names the path. */
export async function readKeyFile(path: string): Promise<{ identity: NodeIdentity; mode: number }> {
  const st = await fs.stat(path);
  if (!st.isFile()) throw new CryptoError('BAD_KEY_FILE', `${path}: not a regular file`);
  if (st.size > MAX_KEY_FILE_SIZE) throw new CryptoError('BAD_KEY_FILE', `${path}: key file: too large (${st.size} bytes)`);
  const bytes = new Uint8Array(await fs.readFile(path));
  try {
    return { identity: decodeKeyFile(bytes), mode: st.mode & 0o777 };
  } catch (e) {
    if (isCryptoError(e)) throw new CryptoError(e.code, `${path}: ${e.message}`);
    throw e;
  } finally {
    wipe(bytes);
  }
}

/**
 * Load `dataDir/identity.key`, or create the data directory (0700) and a fresh identity if the file
 * does not exist. A corrupt file throws (BAD_KEY_FILE, naming the path) and is left untouched.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<LoadedIdentity> {
  const path = join(dataDir, IDENTITY_FILE);
  const loaded = (r: { identity: NodeIdentity; mode: number }, created: boolean): LoadedIdentity => ({
    identity: r.identity,
    path,
    created,
    insecureMode: !IS_WINDOWS && (r.mode & 0o077) !== 0,
  });
  try {
    return loaded(await readKeyFile(path), false);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  await fs.mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const identity = generateIdentity();
  const bytes = encodeKeyFile(identity);
  try {
    await writeKeyFile(path, bytes);
  } catch (e) {
    // Another process created it between our read and our write: use theirs.
    if (errno(e) === 'EEXIST') return loaded(await readKeyFile(path), false);
    throw e;
  } finally {
    wipe(bytes);
  }
  return loaded({ identity, mode: KEY_FILE_MODE }, true);
}
