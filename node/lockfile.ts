// One node per data directory: `DIR/lock` holds the running node's PID, created exclusively. A lock
// left by a process that no longer exists (a crash, SIGKILL) is stale and taken over; a live one
// makes the second start fail with a clear message.

import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT_USAGE } from './exit-codes.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
      } catch {
        /* vanished between open and read: retry */
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new CliError(EXIT_USAGE, `another umbra node (pid ${pid}) is already running on ${dir}`);
      }
      try {
        fs.unlinkSync(file); // stale: its process is gone
      } catch {
        /* someone else removed it */
      }
    }
  }
  throw new CliError(EXIT_USAGE, `could not lock ${dir} (lock file keeps changing)`);
}
