import { spawnService } from '@capstan/e2e';

/** A Capstan service running as its own process, as in its container. */
export interface Child {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>/dist/main.js` with `env` on a free-ish port, logging to
 * `<logDir>/<name>.log`, and waits until it is ready. Its RSS and CPU are then its own, and its
 * event loop and heap are not shared with the benchmark's client.
 */
export async function startChild(
  name: string,
  env: Record<string, string>,
  logDir: string,
  /** Another checkout's build of the service (A/B runs); this one's by default. */
  root?: string,
): Promise<Child> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const service = await spawnService(name, port, env, logDir, name, true, root);
  return { pid: service.child.pid ?? 0, port, stop: () => service.stop() };
}
