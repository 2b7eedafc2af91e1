import {
  DEPLOY_DECISION_RECORDED_V1,
  METRIC_SAMPLED_V2,
  parseEvent,
  stableId,
  type DeployDecisionV1DataInput,
} from '@capstan/events';
import type { CanaryDecision, CanaryModel, Measurement } from '@capstan/canary-core';
import type { Bus } from '@capstan/messaging';

const SOURCE = '/capstan/canary-analyzer';

/** Publishes what the analyzer learns (samples) and decides (deploy decisions) with deterministic ids. */
export class CanaryPublisher {
  constructor(private readonly bus: Bus) {}

  async decision(d: CanaryDecision, correlationId: string): Promise<void> {
    const data: DeployDecisionV1DataInput = d.data;
    await this.bus.publish(
      parseEvent({
        specversion: '1.0',
        id: d.id,
        source: SOURCE,
        type: DEPLOY_DECISION_RECORDED_V1,
        subject: `Canary/${data.decidedBy.namespace}/${data.decidedBy.name}`,
        time: data.decidedAt,
        datacontenttype: 'application/json',
        correlationid: correlationId,
        data,
      }),
    );
  }

  async samples(
    model: CanaryModel,
    uid: string,
    run: number,
    step: number,
    weight: number,
    measurements: Measurement[],
    at: string,
  ): Promise<void> {
    for (const m of measurements) {
      const metric = model.metrics.find((x) => x.name === m.metric);
      await this.bus.publish(
        parseEvent({
          specversion: '1.0',
          id: stableId('sample', uid, String(step), m.metric),
          source: SOURCE,
          type: METRIC_SAMPLED_V2,
          subject: `Canary/${model.namespace}/${model.name}`,
          time: at,
          datacontenttype: 'application/json',
          correlationid: `${uid}:${run}`,
          data: {
            canary: { kind: 'Canary', namespace: model.namespace, name: model.name },
            run,
            metric: m.metric,
            query: m.query,
            window: metric?.intervalText ?? '1m',
            canaryValue: m.canary,
            ...(m.primary !== undefined ? { primaryValue: m.primary } : {}),
            ...(m.canarySamples ? { canarySamples: m.canarySamples } : {}),
            ...(m.primarySamples ? { primarySamples: m.primarySamples } : {}),
            ...(m.error !== undefined ? { error: m.error } : {}),
            thresholdRange: {
              ...(metric?.min !== undefined ? { min: metric.min } : {}),
              ...(metric?.max !== undefined ? { max: metric.max } : {}),
            },
            step,
            canaryWeight: weight,
            sampledAt: at,
          },
        }),
      );
    }
  }
}
