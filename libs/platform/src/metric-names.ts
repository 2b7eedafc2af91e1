import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/*
 * Capstan's metric names, units and labels in one place, so every service names the same thing
 * the same way and the chart's dashboards and alerts (deploy/capstan/dashboards, rules) can rely
 * on them. Conventions (Prometheus'): base units in the name (`_seconds`, `_bytes`), counters end
 * in `_total`, 0/1 gauges for states. Labels, wherever they apply:
 *   kind, namespace, name  the Kubernetes object a series is about (Sync, GitRepository, Canary...)
 *   result                 success | failure (reconciles, polls, deliveries)
 *   stream, consumer       the JetStream stream and durable consumer (libs/messaging)
 *   service                added by ObservabilityModule to every series of a service
 */

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

const spec = <L extends string>(name: string, help: string, labelNames: readonly L[]): MetricSpec<L> => ({
  name,
  help,
  labelNames,
});

export const OBJECT_LABELS = ['kind', 'namespace', 'name'] as const;

export const CAPSTAN_METRICS = {
  /** One reconcile of one object, from start to status written. */
  reconcileDuration: spec(
    'capstan_reconcile_duration_seconds',
    'Time to reconcile an object, by object and result',
    [...OBJECT_LABELS, 'result'],
  ),
  /** 1 when the Sync's Ready condition is True, else 0. */
  syncReady: spec('capstan_sync_ready', 'Whether a Sync is Ready (1) or not (0)', ['namespace', 'name']),
  /** 1 when the object's Ready condition is True, else 0; any Capstan kind (GitRepository, HelmRelease...). */
  resourceReady: spec(
    'capstan_resource_ready',
    'Whether a Capstan object is Ready (1) or not (0)',
    OBJECT_LABELS,
  ),
  /** Decisions recorded in the audit log, by action, outcome and deciding object's kind and namespace. */
  decisions: spec('capstan_decisions_total', 'Deploy decisions recorded in the audit log', [
    'action',
    'outcome',
    'kind',
    'namespace',
  ]),
  /** 1 while the last verification of the audit hash chain found it intact, 0 when it found a break. */
  auditChainValid: spec(
    'capstan_audit_chain_valid',
    'Whether the last audit chain verification passed (1) or found a break (0)',
    [],
  ),
  auditChainVerified: spec(
    'capstan_audit_chain_last_verified_timestamp_seconds',
    'When the audit hash chain was last verified (Unix time)',
    [],
  ),
  auditChainDecisions: spec(
    'capstan_audit_chain_checked_decisions',
    'Decisions checked by the last chain verification',
    [],
  ),
  /** Webhook deliveries by subscription (namespace/name) and result (success, failure, dead). */
  webhookDeliveries: spec(
    'capstan_webhook_deliveries_total',
    'Webhook delivery attempts by subscription and result',
    ['namespace', 'name', 'result'],
  ),
  webhookOutbox: spec(
    'capstan_webhook_outbox_deliveries',
    'Webhook deliveries in the outbox by status (pending, dead)',
    ['status'],
  ),
  /** Messaging (libs/messaging registers these for every service's bus). */
  consumerPending: spec(
    'capstan_consumer_pending_messages',
    'Consumer lag: messages in the stream the durable consumer has not been delivered yet',
    ['stream', 'consumer'],
  ),
  consumerAckPending: spec(
    'capstan_consumer_ack_pending_messages',
    'Messages delivered to the consumer and not acknowledged yet',
    ['stream', 'consumer'],
  ),
  consumerRedelivered: spec(
    'capstan_consumer_redelivered_messages',
    'Messages delivered more than once and not acknowledged yet',
    ['stream', 'consumer'],
  ),
  streamMessages: spec(
    'capstan_stream_messages',
    'Messages kept in a stream (queue depth), by role (events, dead-letter)',
    ['stream', 'role'],
  ),
  deadLetters: spec(
    'capstan_dead_letter_messages',
    'Messages kept in the dead-letter stream, by the durable consumer that gave up on them',
    ['stream', 'consumer'],
  ),
  /** Container registries (registry-watcher). */
  registryRateLimitRemaining: spec(
    'capstan_registry_ratelimit_remaining',
    'Requests left in the registry rate-limit window (RateLimit-Remaining), by registry host',
    ['registry'],
  ),
  registryRateLimitLimit: spec(
    'capstan_registry_ratelimit_limit',
    'Requests allowed per registry rate-limit window (RateLimit-Limit), by registry host',
    ['registry'],
  ),
  /** Canaries (canary-analyzer). */
  canaryWeight: spec('capstan_canary_weight_percent', 'Traffic weight routed to the canary, in percent', [
    'namespace',
    'name',
  ]),
  canaryVerdicts: spec(
    'capstan_canary_verdicts_total',
    'Canary analysis verdicts by verdict (pass, inconclusive, fail, error)',
    ['namespace', 'name', 'verdict'],
  ),
  /** 1 for the Canary's current phase (Flagger's phases: Initialized, Progressing, Succeeded...), else absent. */
  canaryPhase: spec('capstan_canary_phase', "A Canary's current phase (1)", ['namespace', 'name', 'phase']),
  /**
   * One part of a Canary step: decide (look, query, record: the part that makes a step late),
   * then what follows it beside the next decision: converge (routes, replicas), tell, status.
   */
  canaryStepPart: spec('capstan_canary_step_part_seconds', 'Time of one part of a Canary step', ['part']),
  /** Failed checks of the Canary's current rollout (Flagger's status.failedChecks). */
  canaryFailedChecks: spec('capstan_canary_failed_checks', 'Failed checks of the current rollout', [
    'namespace',
    'name',
  ]),
} as const;

export type CapstanMetric = keyof typeof CAPSTAN_METRICS;

type Labels<M extends CapstanMetric> = (typeof CAPSTAN_METRICS)[M]['labelNames'][number];

/** A counter of one of the shared metrics, registered in the service's registry. */
export function capstanCounter<M extends CapstanMetric>(registry: Registry, metric: M): Counter<Labels<M>> {
  const s = CAPSTAN_METRICS[metric];
  return new Counter({ name: s.name, help: s.help, labelNames: [...s.labelNames], registers: [registry] });
}

/**
 * A gauge of one of the shared metrics. With `collect`, its values are computed at each scrape
 * (reset first, so objects that went away disappear).
 */
export function capstanGauge<M extends CapstanMetric>(
  registry: Registry,
  metric: M,
  collect?: (
    set: (labels: Partial<Record<Labels<M>, string>>, value: number) => void,
  ) => Promise<void> | void,
): Gauge<Labels<M>> {
  const s = CAPSTAN_METRICS[metric];
  return new Gauge({
    name: s.name,
    help: s.help,
    labelNames: [...s.labelNames],
    registers: [registry],
    ...(collect
      ? {
          async collect() {
            const values: [Partial<Record<Labels<M>, string>>, number][] = [];
            await collect((labels, value) => values.push([labels, value]));
            this.reset();
            for (const [labels, value] of values) this.set(labels, value);
          },
        }
      : {}),
  });
}

/** Buckets for reconcile-like work: 50 ms to 10 min. */
export const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function capstanHistogram<M extends CapstanMetric>(
  registry: Registry,
  metric: M,
  buckets: number[] = RECONCILE_BUCKETS,
): Histogram<Labels<M>> {
  const s = CAPSTAN_METRICS[metric];
  return new Histogram({
    name: s.name,
    help: s.help,
    labelNames: [...s.labelNames],
    buckets,
    registers: [registry],
  });
}
