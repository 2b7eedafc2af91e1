import type { Informer, KubernetesObject } from '@kubernetes/client-node';

/**
 * Keeps an informer running: its start is retried until the API server serves the kind (our
 * CRDs may be installed after the service starts), and a watch that fails is restarted.
 * Stopping aborts the watch, which is not a failure.
 */
export class KeptWatch<T extends KubernetesObject> {
  private stopped = false;
  private listed = false;
  private markListed: () => void = () => undefined;
  /** Resolves the first time the informer has listed (or when the watch is stopped first). */
  readonly firstListed: Promise<void>;

  constructor(
    private readonly informer: Informer<T>,
    private readonly what: string,
    private readonly warn: (message: string) => void,
    private readonly retryMs = 2_000,
  ) {
    this.firstListed = new Promise((resolve) => (this.markListed = resolve));
    informer.on('error', (e: unknown) => {
      if (this.stopped) return;
      this.listed = false;
      warn(`${what} watch failed, restarting: ${String(e)}`);
      setTimeout(() => void this.start(), 1_000);
    });
  }

  /** Whether the informer has listed since its last failure (for readiness). */
  get synced(): boolean {
    return this.listed;
  }

  /**
   * One attempt to start; on failure, further attempts run in the background. Start-up does not
   * block on a missing CRD; wait on `firstListed` where the cache must be filled first.
   */
  async start(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer.start();
      this.listed = true;
      this.markListed();
    } catch (e) {
      this.warn(`cannot watch ${this.what} yet: ${String(e)}`);
      setTimeout(() => void this.start(), this.retryMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markListed();
    await this.informer.stop();
  }
}
