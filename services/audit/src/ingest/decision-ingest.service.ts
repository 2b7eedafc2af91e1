import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DeployDecisionRecordedV1 } from '@capstan/events';
import { yieldToEventLoop } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { toDecisionRecord } from '../domain/to-decision-record.js';
import { ID_GENERATOR, type IdGenerator } from '../ids.js';
import { AuditMetrics } from '../observability/audit-metrics.js';
import { prepareDecision, type PreparedDecision } from '../persistence/decision-insert.js';
import { DecisionRepository, type AppendResult } from '../persistence/decision.repository.js';

/** Decisions prepared between two turns of the event loop. */
const PREPARE_SLICE = 25;

/**
 * Records decision events in the audit log. Idempotent on the event id: a redelivered or
 * republished event is a success that writes nothing, so the transport can simply ack it.
 */
@Injectable()
export class DecisionIngest {
  private readonly logger = new Logger(DecisionIngest.name);

  constructor(
    private readonly decisions: DecisionRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    @Optional() private readonly metrics?: AuditMetrics,
  ) {}

  async ingest(event: DeployDecisionRecordedV1): Promise<AppendResult> {
    const record = toDecisionRecord(event, { id: this.ids.next(), recordedAt: this.clock.now() });
    const result = await this.decisions.append(record);
    if (result.status === 'recorded') this.metrics?.recorded(record);
    switch (result.status) {
      case 'recorded':
        this.logger.debug(`recorded ${event.id} as #${result.seq}`);
        break;
      case 'duplicate':
        this.logger.debug(`${event.id} already recorded as #${result.seq}`);
        break;
    }
    return result;
  }

  /**
   * Records a batch in one transaction, chained in the order given; one result per event.
   * Throws (writing nothing) if any of them cannot be stored: the caller retries them one by one.
   */
  async ingestBatch(events: readonly DeployDecisionRecordedV1[]): Promise<AppendResult[]> {
    return this.ingestPrepared(await this.prepare(events));
  }

  /**
   * The part of ingestBatch that needs neither the database nor the chain head: records, their
   * canonical content, their rows as JSON. A consumer runs it for the next batch while the
   * previous one is being written.
   */
  async prepare(events: readonly DeployDecisionRecordedV1[]): Promise<PreparedDecision[]> {
    const recordedAt = this.clock.now();
    const prepared: PreparedDecision[] = [];
    for (const [index, event] of events.entries()) {
      // ~150 us of CPU per decision: in slices, so the batch being written meanwhile gets its
      // database round trips answered within a slice instead of after the whole batch.
      if (index > 0 && index % PREPARE_SLICE === 0) await yieldToEventLoop();
      prepared.push(prepareDecision(toDecisionRecord(event, { id: this.ids.next(), recordedAt })));
    }
    return prepared;
  }

  async ingestPrepared(batch: readonly PreparedDecision[]): Promise<AppendResult[]> {
    const results = await this.decisions.appendPrepared(batch);
    results.forEach((r, i) => {
      const prepared = batch[i];
      if (r.status === 'recorded' && prepared) this.metrics?.recorded(prepared.record);
    });
    const recorded = results.filter((r) => r.status === 'recorded').length;
    this.logger.debug(`batch of ${batch.length}: ${recorded} recorded, ${batch.length - recorded} duplicate`);
    return results;
  }
}
