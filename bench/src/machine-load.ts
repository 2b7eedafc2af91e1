import { readFile } from 'node:fs/promises';

/** The machine's load averages (1, 5, 15 min) as `uptime` prints them: the machine is shared. */
export async function loadAverage(): Promise<string> {
  const text = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return text.split(' ').slice(0, 3).join(', ') || 'unknown';
}

/** Resident set size of a process in bytes (0 once it is gone). */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
