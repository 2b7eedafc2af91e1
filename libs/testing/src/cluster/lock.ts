import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock nobody holds any more: its owner died, or it stayed empty (owner died mid-write). */
function isStale(file: string): boolean {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0) return !pidAlive(pid);
    return Date.now() - statSync(file).mtimeMs > 5_000;
  } catch {
    return false; // vanished meanwhile: just try again
  }
}

/**
 * Serialises start/stop on one cluster dir across processes (two `npm run
 * cluster:start` at once would otherwise both launch, and one set of pids would be
 * lost from the state file).
 */
export async function withDirLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (isStale(file)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${dir} is locked by another start/stop (${file})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
