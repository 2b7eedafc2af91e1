/**
 * What to do with a message whose handler failed. Pure, so the whole redelivery policy is
 * tested without a broker: nak with a growing delay, then dead-letter after the last try.
 */
export interface RetryPolicy {
  /** Deliveries in total, the first one included. */
  maxDeliver: number;
  /** Delay before delivery n+1 after delivery n failed; the last value repeats. */
  backoffMs: number[];
}

export const defaultRetryPolicy: RetryPolicy = { maxDeliver: 5, backoffMs: [200, 1_000, 5_000, 15_000] };

export type FailureStep = { kind: 'retry'; delayMs: number } | { kind: 'dead-letter' };

export function onHandlerFailure(policy: RetryPolicy, deliveryCount: number): FailureStep {
  if (deliveryCount >= policy.maxDeliver) return { kind: 'dead-letter' };
  const delays = policy.backoffMs.length > 0 ? policy.backoffMs : [1_000];
  const delayMs = delays[Math.min(deliveryCount - 1, delays.length - 1)] ?? 1_000;
  return { kind: 'retry', delayMs };
}
