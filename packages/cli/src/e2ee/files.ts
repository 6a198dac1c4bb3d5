// Durable little files for a CLI device: every secret file is 0600 in a 0700 directory, whole
// files are replaced atomically (temp file, fsync, rename, fsync the directory), and appends are
// fsynced before the caller goes on. A per-profile lock keeps two `parley` processes (say a
// `read --follow` and a `send` in another terminal) from using the same MLS state at once: two
// writers of one group state would reuse a ratchet generation.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ParleyError } from '@parley/protocol';

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/** Replace `file` with `data` so that a crash leaves either the old or the new file, never a mix. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  ensureDir(dirname(file));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

/** Append text and make it durable before returning. */
export function appendDurable(file: string, text: string): void {
  if (text.length === 0) return;
  ensureDir(dirname(file));
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600);
}

export function readIfExists(file: string): Buffer | undefined {
  return existsSync(file) ? readFileSync(file) : undefined;
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `fn` holding the profile's lock (DIR/lock, created exclusively). A lock left by a process
 * that no longer runs (kill -9, power cut) is taken over. Waits up to `waitMs` for a live holder.
 */
export async function withProfileLock<T>(dir: string, fn: () => Promise<T>, waitMs = 60_000): Promise<T> {
  ensureDir(dir);
  const file = join(dir, 'lock');
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8');
    } catch {
      continue; // released between our attempts
    }
    const pid = Number(holder.split(' ')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
      // Stale. Re-read right before removing so that we do not remove a lock just taken by
      // another process that also found it stale.
      try {
        if (readFileSync(file, 'utf8') === holder) unlinkSync(file);
      } catch {
        // gone already
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new ParleyError(
        'UNAVAILABLE',
        `another parley process (pid ${pid}) is using the profile in ${dir}`,
        'wait for it to finish, or stop it',
      );
    }
    await sleep(25 + Math.floor(Math.random() * 25));
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
    } catch {
      // already gone
    }
  }
}
