import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DeployDecisionRecordedV1 } from '@capstan/events';
import { CLOCK, type Clock } from '@capstan/platform';
import { toDecisionRecord } from '../domain/to-decision-record.js';
import { ID_GENERATOR, type IdGenerator } from '../ids.js';
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
    const recordedAt = this.clock.now();
    const records = events.map((event) => toDecisionRecord(event, { id: this.ids.next(), recordedAt }));
    const results = await this.decisions.appendBatch(records);
    const recorded = results.filter((r) => r.status === 'recorded').length;
    this.logger.debug(
      `batch of ${events.length}: ${recorded} recorded, ${events.length - recorded} duplicate`,
    );
    return results;
  }
}
