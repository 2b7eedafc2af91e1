import { Inject, Injectable, Optional } from '@nestjs/common';
import { CLOCK, systemClock, type Clock } from '@capstan/platform';
import { startWalk, verifyChain, type ChainBreak } from '../domain/chain.js';
import { AuditMetrics } from '../observability/audit-metrics.js';
import { DecisionRepository } from '../persistence/decision.repository.js';

export type VerifyReport =
  { ok: true; checked: number } | { ok: false; checked: number; firstBrokenSeq: bigint; reason: ChainBreak };

/** A verification and when it finished (the console's Integrity page, the metrics). */
export interface VerifyCheck {
  report: VerifyReport;
  at: Date;
}

const BATCH = 500;

/** Re-walks the whole chain from the first decision, in batches so memory stays flat. */
@Injectable()
export class ChainVerifier {
  private lastCheck: VerifyCheck | null = null;

  constructor(
    private readonly decisions: DecisionRepository,
    @Optional() private readonly metrics?: AuditMetrics,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  /** The newest verification this replica ran (on request or on schedule); null before the first. */
  get last(): VerifyCheck | null {
    return this.lastCheck;
  }

  async verify(): Promise<VerifyReport> {
    const report = await this.walk();
    this.lastCheck = { report, at: this.clock.now() };
    this.metrics?.chainChecked({ ok: report.ok, checked: report.checked, at: this.lastCheck.at });
    return report;
  }

  private async walk(): Promise<VerifyReport> {
    let walk = startWalk();
    let afterSeq: bigint | null = null;
    for (;;) {
      const links = await this.decisions.chainLinks(afterSeq, BATCH);
      const verdict = verifyChain(links, walk);
      if (!verdict.ok) return verdict;
      walk = verdict.walk;
      const last = links.at(-1);
      if (!last || links.length < BATCH) return { ok: true, checked: walk.checked };
      afterSeq = last.seq;
    }
  }
}
