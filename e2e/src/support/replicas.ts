import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePorts } from '@capstan/testing';
import { spawnService, type ServiceProcess } from './processes.js';
import { waitFor } from './wait.js';

/** One replica of a service, running as its own process (`node services/<name>/dist/main.js`). */
export interface Replica {
  service: string;
  /** POD_NAME: the replica's identity in the shard Leases. */
  identity: string;
  pid: number;
  url: string;
  process: ServiceProcess;
  /** When the test killed it (ms since the epoch, after it exited). */
  killedAt?: number;
}

/**
 * Replicas of the services under test, as real processes the test can `kill -9` and start again
 * (what a node failure and the Deployment's restart do). All share `env`; each gets its own port,
 * identity and log file in `logDir`.
 */
export class Replicas {
  readonly all: Replica[] = [];
  private started = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  /** Starts a replica and waits until it is ready; `extraEnv` for this one only (a pause step). */
  async start(service: string, extraEnv: Record<string, string> = {}, waitReady = true): Promise<Replica> {
    const identity = `${service}-${++this.started}`;
    const [port] = await freePorts(1);
    const process = await spawnService(
      service,
      port!,
      // INSTANCE_NAME is the hostname by default, the same for every process here.
      {
        ...this.env,
        POD_NAME: identity,
        INSTANCE_NAME: identity,
        // Each pod has its own /tmp: mirrors shared between processes would race on their refs.
        GIT_CACHE_DIR: join(this.logDir, 'cache', identity),
        ...extraEnv,
      },
      this.logDir,
      identity,
      waitReady,
    );
    const replica: Replica = {
      service,
      identity,
      pid: process.child.pid ?? 0,
      url: process.url,
      process,
    };
    this.all.push(replica);
    return replica;
  }

  /** `kill -9`: no shutdown hook runs, nothing is released. */
  async kill(replica: Replica): Promise<void> {
    const child = replica.process.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    replica.killedAt ??= Date.now();
  }

  /**
   * Waits until the replica printed the step's marker (`capstan-step <step> <key>`, written just
   * before it stops still) and returns the key.
   */
  async atStep(replica: Replica, step: string, timeoutMs = 60_000): Promise<string> {
    return waitFor(
      `${replica.identity} at step ${step} (log: ${this.logDir}/${replica.identity}.log)`,
      async () => {
        const line = (await this.log(replica))
          .split('\n')
          .find((l) => l.startsWith(`capstan-step ${step} `) || l === `capstan-step ${step}`);
        return line === undefined ? undefined : line.slice(`capstan-step ${step} `.length);
      },
      timeoutMs,
    );
  }

  /** Waits until the replica's log has a line matching `pattern` (it took its shards...). */
  async logged(replica: Replica, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${replica.identity} to log ${String(pattern)} (log: ${this.logDir}/${replica.identity}.log)`,
      async () => (pattern.test(await this.log(replica)) ? true : undefined),
      timeoutMs,
    );
  }

  live(service?: string): Replica[] {
    return this.all.filter(
      (r) =>
        (!service || r.service === service) &&
        r.process.child.exitCode === null &&
        r.process.child.signalCode === null,
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.live().map((r) => r.process.stop()));
  }

  async log(replica: Replica): Promise<string> {
    return readFile(`${this.logDir}/${replica.identity}.log`, 'utf8').catch(() => '');
  }
}
