import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DeployDecisionRecordedV1 } from '@capstan/events';
import { CLOCK, type Clock } from '@capstan/platform';
import { toDecisionRecord } from '../domain/to-decision-record.js';
import { ID_GENERATOR, type IdGenerator } from '../ids.js';
import { prepareDecision, type PreparedDecision } from '../persistence/decision-insert.js';
import { DecisionRepository, type AppendResult } from '../persistence/decision.repository.js';

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
  ) {}

  async ingest(event: DeployDecisionRecordedV1): Promise<AppendResult> {
    const record = toDecisionRecord(event, { id: this.ids.next(), recordedAt: this.clock.now() });
    const result = await this.decisions.append(record);
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
    return this.ingestPrepared(this.prepare(events));
  }

  /**
   * The part of ingestBatch that needs neither the database nor the chain head: records, their
   * canonical content, their rows as JSON. A consumer runs it for the next batch while the
   * previous one is being written.
   */
  prepare(events: readonly DeployDecisionRecordedV1[]): PreparedDecision[] {
    const recordedAt = this.clock.now();
    return events.map((event) =>
      prepareDecision(toDecisionRecord(event, { id: this.ids.next(), recordedAt })),
    );
  }

  async ingestPrepared(batch: readonly PreparedDecision[]): Promise<AppendResult[]> {
    const results = await this.decisions.appendPrepared(batch);
    const recorded = results.filter((r) => r.status === 'recorded').length;
    this.logger.debug(`batch of ${batch.length}: ${recorded} recorded, ${batch.length - recorded} duplicate`);
    return results;
  }
}
