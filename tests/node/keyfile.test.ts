// The key file on disk: atomic 0600 writes, no clobbering, load-or-create, corrupt files named
// and never replaced, and the warning for a group/world-readable file.
import { mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { toHex } from '../../crypto/bytes.ts';
import { decodeKeyFile, encodeKeyFile, generateIdentity } from '../../crypto/identity.ts';
import { IDENTITY_FILE, loadOrCreateIdentity, readKeyFile, writeKeyFile } from '../../node/keyfile.ts';

const posix = process.platform !== 'win32';
const root = mkdtempSync(join(tmpdir(), 'umbra-keyfile-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const modeOf = async (p: string) => (await fs.stat(p)).mode & 0o777;

t.test('writeKeyFile creates a 0600 file atomically and leaves no temp file', async (t) => {
  // Neither a permissive umask nor one that clears owner bits changes the mode.
  for (const umask of [0o000, 0o022, 0o277]) {
    const dir = freshDir();
    await fs.mkdir(dir);
    const path = join(dir, 'k.key');
    const bytes = encodeKeyFile(generateIdentity());
    const oldMask = process.umask(umask);
    try {
      await writeKeyFile(path, bytes);
    } finally {
      process.umask(oldMask);
    }
    t.same(new Uint8Array(await fs.readFile(path)), bytes);
    if (posix) t.equal(await modeOf(path), 0o600, `umask ${umask.toString(8)}`);
    t.same(await fs.readdir(dir), ['k.key']);
  }
});

t.test('writeKeyFile refuses to overwrite unless asked', async (t) => {
  const dir = freshDir();
  await fs.mkdir(dir);
  const path = join(dir, 'k.key');
  const first = encodeKeyFile(generateIdentity());
  const second = encodeKeyFile(generateIdentity());
  await writeKeyFile(path, first);
  await t.rejects(writeKeyFile(path, second), { code: 'EEXIST', message: /refusing to overwrite/ });
  t.same(new Uint8Array(await fs.readFile(path)), first, 'original untouched');
  await writeKeyFile(path, second, { overwrite: true });
  t.same(new Uint8Array(await fs.readFile(path)), second);
  if (posix) t.equal(await modeOf(path), 0o600);
  t.same(await fs.readdir(dir), ['k.key'], 'no temp files left behind');
});

t.test('loadOrCreateIdentity creates once, then loads the same identity', async (t) => {
  const dir = freshDir();
  const a = await loadOrCreateIdentity(dir);
  t.equal(a.created, true);
  t.equal(a.insecureMode, false);
  t.equal(a.path, join(dir, IDENTITY_FILE));
  if (posix) {
    t.equal(await modeOf(a.path), 0o600);
    t.equal((await fs.stat(dir)).mode & 0o077, 0, 'data dir private');
  }
  const b = await loadOrCreateIdentity(dir);
  t.equal(b.created, false);
  t.equal(toHex(b.identity.nodeId), toHex(a.identity.nodeId));
  t.equal(toHex(b.identity.onionSecret), toHex(a.identity.onionSecret));
  t.same(decodeKeyFile(new Uint8Array(await fs.readFile(a.path))).nodeId, a.identity.nodeId);
});

t.test('two concurrent creators end with one identity', async (t) => {
  const dir = freshDir();
  const [a, b] = await Promise.all([loadOrCreateIdentity(dir), loadOrCreateIdentity(dir)]);
  t.equal(toHex(a.identity.nodeId), toHex(b.identity.nodeId));
  t.equal([a.created, b.created].filter(Boolean).length, 1);
  t.same(await fs.readdir(dir), [IDENTITY_FILE]);
});

t.test('a corrupt key file is an error naming the path, and is not replaced', async (t) => {
  const dir = freshDir();
  const { path } = await loadOrCreateIdentity(dir);
  const good = new Uint8Array(await fs.readFile(path));
  const cases: [string, Uint8Array][] = [
    ['flipped byte', good.map((v, i) => (i === 50 ? v ^ 1 : v))],
    ['truncated', good.subarray(0, good.length - 1)],
    ['extended', new Uint8Array([...good, 0])],
    ['empty', new Uint8Array(0)],
    ['huge', new Uint8Array(1 << 16)],
  ];
  for (const [what, bytes] of cases) {
    await fs.writeFile(path, bytes, { mode: 0o600 });
    await t.rejects(loadOrCreateIdentity(dir), { name: 'CryptoError', code: 'BAD_KEY_FILE', message: path }, what);
    t.same(new Uint8Array(await fs.readFile(path)), bytes, `${what}: left as it was`);
  }
});

t.test('a directory in place of the key file is an error', async (t) => {
  const dir = freshDir();
  await fs.mkdir(join(dir, IDENTITY_FILE), { recursive: true });
  await t.rejects(readKeyFile(join(dir, IDENTITY_FILE)), { code: 'BAD_KEY_FILE', message: /not a regular file/ });
});

t.test('a group- or world-readable key file is flagged', { skip: !posix }, async (t) => {
  const dir = freshDir();
  const { path } = await loadOrCreateIdentity(dir);
  for (const [mode, insecure] of [[0o644, true], [0o640, true], [0o604, true], [0o600, false], [0o400, false]] as const) {
    await fs.chmod(path, mode);
    t.equal((await loadOrCreateIdentity(dir)).insecureMode, insecure, mode.toString(8));
  }
});
