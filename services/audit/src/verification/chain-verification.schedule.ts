import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ChainVerifier } from './chain-verifier.service.js';

export const VERIFY_INTERVAL_MS = Symbol('VerifyIntervalMs');

/**
 * Verifies the chain at start and then every interval, so the chain-broken alert and the
 * console's Integrity page do not depend on someone calling the API. 0 turns it off.
 */
@Injectable()
export class ChainVerificationSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChainVerificationSchedule.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly verifier: ChainVerifier,
    @Inject(VERIFY_INTERVAL_MS) private readonly intervalMs: number,
  ) {}

  onApplicationBootstrap(): void {
    if (this.intervalMs <= 0) return;
    const run = () => {
      this.running = this.verifier
        .verify()
        .then((r) => {
          if (!r.ok) this.logger.error(`audit chain broken at #${r.firstBrokenSeq}: ${r.reason}`);
        })
        .catch((e: unknown) => this.logger.warn(`chain verification failed: ${String(e)}`))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          this.timer = setTimeout(run, this.intervalMs);
          this.timer.unref();
        });
    };
    run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
