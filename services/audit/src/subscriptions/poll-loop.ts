import { Logger } from '@nestjs/common';

/**
 * Runs `step` over and over: again at once while it reports more work, else after `idleMs`.
 * `wake()` cuts an idle wait short. Errors are logged and retried after the idle wait.
 */
export class PollLoop {
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private running?: Promise<void>;
  private woken = false;

  constructor(
    private readonly name: string,
    private readonly idleMs: number,
    private readonly step: () => Promise<boolean>,
    private readonly logger = new Logger(name),
  ) {}

  start(): void {
    this.running = this.loop();
  }

  /** True once stop() was called: a step waiting on something else should give up. */
  isStopping(): boolean {
    return this.stopped;
  }

  wake(): void {
    // A wake during a step (say, work recorded while the step was querying) must not be lost
    // to a full idle wait: the loop goes again at once instead.
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.running;
  }

  private wokenDuringStep(): boolean {
    return this.woken;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      let failed = false;
      this.woken = false;
      try {
        more = await this.step();
      } catch (e) {
        failed = true;
        this.logger.warn(`${this.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (more || (!failed && this.wokenDuringStep())) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.idleMs);
      });
      clearTimeout(this.timer);
      this.wakeUp = undefined;
    }
  }
}
