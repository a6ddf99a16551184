// Segment files of the datastore (node/datastore/datastore.ts): numbered append-only files
// `seg-000000000001.dat` in the store directory, plus the per-store `salt`. Thin synchronous
// wrappers over fs: list, create, append (one writev per record), positioned reads, durable sync
// (fdatasync; the directory is fsynced after files appear or go), and the salt file, written
// atomically (temp file, fsync, rename, fsync of the directory).

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from '../../crypto/random.ts';
import { writeFileAtomic } from '../files.ts';
import { SALT_LEN } from '../../store/slots.ts';

const SEG_RE = /^seg-(\d{12})\.dat$/;
export const SALT_FILE = 'salt';

export interface Segment {
  readonly id: number;
  readonly fd: number;
  /** Bytes of whole records in the file (the append position). */
  size: number;
  /** Bytes of records still indexed (size minus this is garbage). */
  live: number;
  /** Index keys of the records in this segment that are live. */
  readonly keys: Set<string>;
  /** Tombstone records in this segment. */
  tombstones: number;
}

export const segmentPath = (dir: string, id: number): string => path.join(dir, `seg-${String(id).padStart(12, '0')}.dat`);

/** Segment numbers present in the directory, ascending. */
export function listSegments(dir: string): number[] {
  const ids: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = SEG_RE.exec(name);
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

export function openSegment(dir: string, id: number, create: boolean): Segment {
  const fd = fs.openSync(segmentPath(dir, id), create ? 'wx+' : 'r+', 0o600);
  return { id, fd, size: 0, live: 0, keys: new Set(), tombstones: 0 };
}

export function fileSize(fd: number): number {
  return fs.fstatSync(fd).size;
}

/** Write a record's parts at the segment's end, then advance it. */
export function appendRecord(seg: Segment, parts: Uint8Array[]): number {
  const off = seg.size;
  let want = 0;
  for (const p of parts) want += p.length;
  let done = fs.writevSync(seg.fd, parts, off);
  if (done !== want) {
    // Short write (a full disk, or a signal): finish it piece by piece, or fail loudly.
    const all = Buffer.concat(parts);
    while (done < want) {
      const n = fs.writeSync(seg.fd, all, done, want - done, off + done);
      if (n <= 0) throw new Error('datastore: short write');
      done += n;
    }
  }
  seg.size += want;
  return off;
}

/**
 * Exactly `len` bytes at `pos` (one pread, unless the kernel returns less), or null if the file is
 * shorter. Into `into` if given (a scratch buffer of at least `len` bytes), else into a new buffer
 * of its own, not from Buffer's shared pool: callers hand out views of it.
 */
export function readAt(fd: number, pos: number, len: number, into?: Uint8Array): Uint8Array | null {
  const buf = into ?? Buffer.allocUnsafeSlow(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) return null;
    got += n;
  }
  return buf;
}

/** The store's salt: read it, or make one if the store is new. A salt file of the wrong size is an error. */
export function loadOrCreateSalt(dir: string): { salt: Uint8Array; created: boolean } {
  const file = path.join(dir, SALT_FILE);
  try {
    const salt = new Uint8Array(fs.readFileSync(file));
    if (salt.length !== SALT_LEN) throw new Error(`datastore: ${file} is not a ${SALT_LEN}-byte salt; move it away to start an empty store`);
    return { salt, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const salt = randomBytes(SALT_LEN);
  writeFileAtomic(file, salt, 0o600);
  return { salt, created: true };
}
