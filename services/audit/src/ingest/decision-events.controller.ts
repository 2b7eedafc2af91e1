import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DEPLOY_DECISION_RECORDED_V1, type DeployDecisionRecordedV1 } from '@capstan/events';
import { DecisionIngest } from './decision-ingest.service.js';

/**
 * JetStream -> audit log. The transport hands over an already validated event; throwing here
 * (database down) makes it nak with backoff and redeliver, and a redelivery is harmless.
 */
@Controller()
export class DecisionEventsController {
  constructor(private readonly ingest: DecisionIngest) {}

  @EventPattern(DEPLOY_DECISION_RECORDED_V1)
  async onDecisionRecorded(@Payload() event: DeployDecisionRecordedV1): Promise<void> {
    await this.ingest.ingest(event);
  }
}
