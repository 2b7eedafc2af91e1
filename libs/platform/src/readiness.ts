import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<void>;

/** Adapters register what "ready" means for them (NATS connected, database reachable, informers synced). */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await check();
          checks[name] = 'ok';
        } catch (e) {
          ready = false;
          checks[name] = e instanceof Error ? e.message : String(e);
        }
      }),
    );
    return { ready, checks };
  }
}
