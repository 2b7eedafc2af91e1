import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './kube.js';
import { waitFor } from './wait.js';

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Runs a service exactly as its container does (`node services/<name>/dist/main.js`), logs to a file. */
export async function spawnService(
  name: string,
  port: number,
  env: Record<string, string>,
  logDir: string,
  /** The log file's name (without .log) when several processes of one service run. */
  logName = name,
  /** False for a process that is to stop at a step before it would be ready. */
  waitReady = true,
  /** The checkout whose build runs (another worktree's, for a benchmark's A/B runs). */
  root = repoRoot,
): Promise<ServiceProcess> {
  const logFile = join(logDir, `${logName}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist/main.js')], {
    env: { ...process.env, ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const state = { exited: false };
  child.once('exit', () => (state.exited = true));
  if (waitReady)
    await waitFor(
      `${name} ready (log: ${logFile})`,
      async () => {
        if (state.exited) throw new Error(`${name} exited; see ${logFile}`);
        const res = await fetch(`${url}/readyz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      60_000,
    );
  return {
    name,
    url,
    child,
    stop: async () => {
      if (state.exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
