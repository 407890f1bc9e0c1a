// One app instance per library. The lock file holds the owner's pid; it is created with O_EXCL so
// two instances racing cannot both win. A lock whose pid is gone (the app was killed) is stale
// and taken over; a live one gives the second instance a clear message instead of two writers.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { UserError } from './errors';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

export class LibraryLock {
  private constructor(private readonly file: string) {}

  static async acquire(file: string): Promise<LibraryLock> {
    const info: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fs.writeFile(file, JSON.stringify(info), { flag: 'wx' });
        return new LibraryLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readLock(file);
      // A lock from another machine (a shared home folder) cannot be checked: trust it.
      if (owner && (owner.host !== os.hostname() || alive(owner.pid)) && owner.pid !== process.pid) {
        throw new UserError(
          `Another Vivarium (process ${owner.pid} on ${owner.host}, since ${owner.since}) is using this library. ` +
            'Close it first, or point XDG_DATA_HOME at another folder.',
          'library-locked',
        );
      }
      await fs.rm(file, { force: true }); // stale: its owner is gone
    }
    throw new UserError('Could not lock the VM library (it keeps changing).', 'library-locked');
  }

  async release(): Promise<void> {
    const owner = await readLock(this.file);
    if (owner?.pid === process.pid) await fs.rm(this.file, { force: true });
  }
}
