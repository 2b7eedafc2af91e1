import type { SubscriptionCounts } from './outbox.repository.js';
import type { SubscriptionStatus } from './subscription.js';

type Condition = NonNullable<SubscriptionStatus['conditions']>[number];

/** Ready for a subscription the service accepted, or not, keeping lastTransitionTime on a steady status. */
export function readyCondition(
  previous: readonly Condition[] | undefined,
  next: { ready: boolean; reason: string; message: string; generation: number },
  now: Date,
): Condition[] {
  const status = next.ready ? 'True' : 'False';
  const existing = previous?.find((c) => c.type === 'Ready');
  return [
    ...(previous ?? []).filter((c) => c.type !== 'Ready'),
    {
      type: 'Ready',
      status,
      observedGeneration: next.generation,
      lastTransitionTime: existing?.status === status ? existing.lastTransitionTime : now.toISOString(),
      reason: next.reason,
      message: next.message,
    },
  ];
}

/** The delivery part of the status, from the outbox's counts. */
export function deliveryStatus(c: SubscriptionCounts): SubscriptionStatus {
  return {
    pending: c.pending,
    failures: c.failing,
    deadLetters: c.dead,
    ...(c.lastDelivered
      ? {
          lastDelivered: {
            seq: Number(c.lastDelivered.seq),
            eventId: c.lastDelivered.eventId,
            time: c.lastDelivered.time.toISOString(),
          },
        }
      : {}),
    ...(c.lastFailure
      ? { lastFailure: { time: c.lastFailure.time.toISOString(), message: c.lastFailure.message } }
      : {}),
  };
}

/** What this replica last wrote to a subscription's status, and when (epoch ms). */
export interface WrittenStatus {
  status: SubscriptionStatus;
  at: number;
}

/**
 * Whether a freshly counted delivery status should be written now. Nothing changed: never.
 * WHY the throttle: while a backlog drains, `pending` and `lastDelivered` move every second on
 * every subscription, and a status PATCH per subscription per second loads the API server (and
 * comes back through our own watch). Progress alone is written at most every `progressEveryMs`;
 * what an operator acts on (failures, dead letters, a new last failure, a drained queue) at once.
 */
export function statusWriteDue(
  previous: WrittenStatus | undefined,
  next: SubscriptionStatus,
  now: number,
  progressEveryMs: number,
): boolean {
  if (!previous) return true;
  const prev = previous.status;
  if (JSON.stringify(prev) === JSON.stringify(next)) return false;
  if (
    prev.failures !== next.failures ||
    prev.deadLetters !== next.deadLetters ||
    JSON.stringify(prev.lastFailure) !== JSON.stringify(next.lastFailure) ||
    (next.pending === 0 && prev.pending !== 0)
  )
    return true;
  return now - previous.at >= progressEveryMs;
}
