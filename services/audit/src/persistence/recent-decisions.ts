import { Injectable } from '@nestjs/common';
import type { ChainedDecision } from '../domain/decision-record.js';

/** A few ingest batches: enough for a relay that keeps up, bounded for one that does not. */
const CAPACITY = 2_000;

/**
 * The decisions this process committed lately, by seq. The relays over the log (CDEvents,
 * webhook fan-out) follow it with a Postgres cursor; reading back every decision this process had
 * just written was ~40% of the service's CPU per decision at full ingest (docs/benchmarks.md,
 * audit-ingest). So a relay takes the run after its cursor from here and reads from Postgres only
 * when this has no such run: another replica's batches, decisions from before a restart, a relay
 * that fell further behind than CAPACITY. Only committed decisions are added (after COMMIT
 * returned), and a recorded decision never changes, so an entry is exactly what the table holds.
 */
@Injectable()
export class RecentDecisions {
  /** In seq order: one process commits under the chain lock, each batch after the previous. */
  private readonly bySeq = new Map<bigint, ChainedDecision>();
  private readonly listeners = new Set<() => void>();

  add(decisions: readonly ChainedDecision[]): void {
    if (decisions.length === 0) return;
    for (const d of decisions) this.bySeq.set(d.seq, d);
    // Map keeps insertion order: drop the oldest past the cap.
    for (const seq of this.bySeq.keys()) {
      if (this.bySeq.size <= CAPACITY) break;
      this.bySeq.delete(seq);
    }
    for (const listener of this.listeners) listener();
  }

  /**
   * The decisions right after `seq`, in seq order, up to the first one this process does not hold;
   * at most `limit`. Empty when it does not hold `seq + 1`.
   */
  after(seq: bigint, limit: number): ChainedDecision[] {
    const run: ChainedDecision[] = [];
    for (let next = seq + 1n; run.length < limit; next++) {
      const d = this.bySeq.get(next);
      if (!d) break;
      run.push(d);
    }
    return run;
  }

  /** Called after each add: a relay can look at once instead of at its next poll. */
  onAdded(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
