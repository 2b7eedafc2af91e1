import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, waitFor } from '@capstan/e2e';

/** A Capstan service running as its own process, as in its container. */
export interface Child {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>/dist/main.js` with `env` on a free-ish port, logging to `<logDir>/<name>.log`,
 * and waits until it is ready. Its RSS and CPU are then its own, and its event loop and heap are
 * not shared with the benchmark's client.
 */
export async function startChild(name: string, env: Record<string, string>, logDir: string): Promise<Child> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const log = createWriteStream(join(logDir, `${name}.log`));
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist/main.js')], {
    env: { ...process.env, ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const state = { exited: false };
  child.once('exit', () => (state.exited = true));
  await waitFor(
    `${name} ready`,
    async () => {
      if (state.exited) throw new Error(`${name} exited; see ${join(logDir, `${name}.log`)}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    60_000,
  );
  return {
    pid: child.pid ?? 0,
    port,
    stop: async () => {
      if (state.exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
