import { Injectable } from '@nestjs/common';
import { startWalk, verifyChain, type ChainBreak } from '../domain/chain.js';
import { DecisionRepository } from '../persistence/decision.repository.js';

export type VerifyReport =
  { ok: true; checked: number } | { ok: false; checked: number; firstBrokenSeq: bigint; reason: ChainBreak };

const BATCH = 500;

/** Re-walks the whole chain from the first decision, in batches so memory stays flat. */
@Injectable()
export class ChainVerifier {
  constructor(private readonly decisions: DecisionRepository) {}

  async verify(): Promise<VerifyReport> {
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
