import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '@capstan/gitops-core';
import { lastResponseAt, replaceConnections } from './kubeconfig.js';

export interface ApiConnectionGuardOptions {
  /** How often the API server is asked (`GET /version`) over the pooled connections. */
  intervalMs: number;
  /** An answer slower than this counts as none. */
  timeoutMs: number;
}

/**
 * Notices a connection to the API server that stopped answering (an HTTP/2 session the server
 * gave up on, a socket a middlebox dropped without a reset, an API server restarted behind a load
 * balancer) and replaces it. Without this a hung socket hangs every request sent on it, watches
 * included, while the process looks healthy. Each probe goes over the same pool as every other
 * request. A probe that fails, or gets no answer in time while nothing else arrives on the pool
 * either, drops the pool (replaceConnections), and readiness reports the failure until a probe is
 * answered again. A probe that is only slow while other answers keep arriving is a busy
 * connection (hundreds of dry-runs queued on one HTTP/2 session), not a broken one: replacing it
 * would fail all that work for nothing.
 */
export class ApiConnectionGuard {
  private timer?: NodeJS.Timeout;
  private failure?: { since: Date; message: string };
  private probing?: Promise<boolean>;
  /** Pools dropped so far (for metrics and tests). */
  replaced = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: ApiConnectionGuardOptions,
    private readonly warn: (message: string) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** For readiness: rejects, saying since when and why, while the API server does not answer. */
  check(): Promise<void> {
    if (!this.failure) return Promise.resolve();
    return Promise.reject(
      new Error(
        `API server not answering since ${this.failure.since.toISOString()}: ${this.failure.message}`,
      ),
    );
  }

  /** One probe (one at a time); true when the API server answered in time. */
  probe(): Promise<boolean> {
    this.probing ??= this.ask().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async ask(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const sent = Date.now();
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    try {
      const answer = this.kc.makeApiClient(VersionApi).getCode();
      if ((await Promise.race([answer, timeout])) === 'timeout') {
        // Other answers arrived meanwhile: the connection is busy, not broken.
        if (lastResponseAt(this.kc) > sent) {
          answer.catch(() => undefined);
          return true;
        }
        answer.catch(() => undefined);
        throw new Error(
          `no answer to GET /version within ${this.options.timeoutMs} ms, nor to anything else`,
        );
      }
      if (this.failure)
        this.warn(
          `API server answering again (${this.failure.message} since ${this.failure.since.toISOString()})`,
        );
      this.failure = undefined;
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.failure = { since: this.failure?.since ?? this.now(), message };
      this.replaced++;
      this.warn(`API server connection replaced: ${message}`);
      await replaceConnections(this.kc);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Where a service says what "ready" means (libs/platform's Readiness). */
export interface ReadinessRegistry {
  register(name: string, check: () => Promise<void>): void;
}

/**
 * A service's guard over its kubeconfig's connections, started, with `/readyz` reporting it as
 * `api-server`. Every service that talks to the API server wires it the same way.
 */
export function startApiConnectionGuard(
  kc: KubeConfig,
  settings: { API_PROBE_INTERVAL: string; API_PROBE_TIMEOUT: string },
  readiness: ReadinessRegistry,
  warn: (message: string) => void,
): ApiConnectionGuard {
  const guard = new ApiConnectionGuard(
    kc,
    {
      intervalMs: parseDuration(settings.API_PROBE_INTERVAL),
      timeoutMs: parseDuration(settings.API_PROBE_TIMEOUT),
    },
    warn,
  );
  readiness.register('api-server', () => guard.check());
  guard.start();
  return guard;
}
