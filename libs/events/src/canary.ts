import { z } from 'zod';
import { DeciderRef, Timestamp } from './common.js';
import { cloudEvent } from './envelope.js';

export const METRIC_SAMPLE_TAKEN_V1 = 'dev.capstan.canary.metric.sampled.v1';

export const MetricSampleTakenV1Data = z.object({
  canary: DeciderRef,
  metric: z.string(),
  query: z.string().optional(),
  /** Null when the query returned no data; a verdict treats that as a failed check. */
  value: z.number().nullable(),
  thresholdRange: z.object({ min: z.number().optional(), max: z.number().optional() }),
  step: z.number().int().nonnegative(),
  canaryWeight: z.number().min(0).max(100),
  sampledAt: Timestamp,
});
export type MetricSampleTakenV1Data = z.infer<typeof MetricSampleTakenV1Data>;
export const MetricSampleTakenV1 = cloudEvent(METRIC_SAMPLE_TAKEN_V1, MetricSampleTakenV1Data);
export type MetricSampleTakenV1 = z.infer<typeof MetricSampleTakenV1>;
