import { z } from 'zod';
import { parseDuration } from '@capstan/gitops-core';
import type { Direction } from './judge/mann-whitney.js';

/**
 * A Canary as Capstan reads it: Flagger's `flagger.app/v1beta1` fields (and the v1alpha3
 * spellings `canaryAnalysis` and per-metric `threshold`, which the workshop's repository still
 * uses) plus the judge settings of `capstan.dev/v1alpha1`. Parsed once into `CanaryModel`, with
 * Flagger's defaults applied, so nothing downstream reads raw YAML.
 */
export const FLAGGER_GROUP = 'flagger.app';
export const CAPSTAN_GROUP = 'capstan.dev';

const Duration = z.string().refine(
  (v) => {
    try {
      parseDuration(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a duration (e.g. 10s, 1m)' },
);

const Match = z.object({
  headers: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  cookies: z.record(z.string(), z.record(z.string(), z.string())).optional(),
});

const Metric = z.object({
  name: z.string().min(1),
  interval: Duration.optional(),
  thresholdRange: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  /** v1alpha3: a min for request-success-rate, a max for everything else. */
  threshold: z.number().optional(),
  query: z.string().optional(),
  templateRef: z.object({ name: z.string().min(1), namespace: z.string().optional() }).optional(),
  templateVariables: z.record(z.string(), z.string()).optional(),
  /** capstan.dev: compare canary against primary with Mann-Whitney U. */
  compare: z
    .object({
      direction: z.enum(['increase', 'decrease', 'either']),
      confidence: z.number().gt(0.5).lt(1).optional(),
      minSamples: z.number().int().min(3).optional(),
    })
    .optional(),
});

const Webhook = z.object({
  name: z.string().min(1),
  type: z
    .enum([
      'confirm-rollout',
      'pre-rollout',
      'rollout',
      'confirm-traffic-increase',
      'confirm-promotion',
      'post-rollout',
      'rollback',
      'event',
      '',
    ])
    .optional(),
  url: z.string().min(1),
  timeout: Duration.optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  muteAlert: z.boolean().optional(),
  retries: z.number().int().min(0).optional(),
});

const Alert = z.object({
  name: z.string().min(1),
  severity: z.enum(['info', 'warn', 'error']).optional(),
  providerRef: z.object({ name: z.string().min(1), namespace: z.string().optional() }),
});

const Analysis = z.object({
  interval: Duration.optional(),
  threshold: z.number().int().min(1).optional(),
  maxWeight: z.number().int().min(1).max(100).optional(),
  stepWeight: z.number().int().min(1).max(100).optional(),
  stepWeights: z.array(z.number().int().min(1).max(100)).optional(),
  stepWeightPromotion: z.number().int().min(1).max(100).optional(),
  iterations: z.number().int().min(1).optional(),
  match: z.array(Match).optional(),
  metrics: z.array(Metric).optional(),
  webhooks: z.array(Webhook).optional(),
  alerts: z.array(Alert).optional(),
  /** capstan.dev judge limits (Argo Rollouts' names). */
  inconclusiveLimit: z.number().int().min(0).optional(),
  consecutiveErrorLimit: z.number().int().min(0).optional(),
  /** Blue/green: mirror requests to the canary while the primary answers (Gateway API). */
  mirror: z.boolean().optional(),
  mirrorWeight: z.number().int().min(1).max(100).optional(),
  /** Canary: a client that reached the canary keeps reaching it (a cookie; Gateway API). */
  sessionAffinity: z
    .object({ cookieName: z.string().min(1), maxAge: z.number().int().min(1).optional() })
    .optional(),
});

export const CanarySpecSchema = z.object({
  provider: z.string().optional(),
  metricsServer: z.string().optional(),
  targetRef: z.object({
    apiVersion: z.string().optional(),
    kind: z.literal('Deployment'),
    name: z.string().min(1),
  }),
  autoscalerRef: z
    .object({
      apiVersion: z.string().optional(),
      kind: z.literal('HorizontalPodAutoscaler'),
      name: z.string().min(1),
    })
    .optional(),
  service: z.object({
    name: z.string().optional(),
    port: z.number().int().min(1).max(65535),
    portName: z.string().optional(),
    targetPort: z.union([z.number().int(), z.string()]).optional(),
    hosts: z.array(z.string()).optional(),
    gatewayRefs: z.array(z.object({ name: z.string(), namespace: z.string().optional() })).optional(),
  }),
  progressDeadlineSeconds: z.number().int().min(1).optional(),
  skipAnalysis: z.boolean().optional(),
  /** On deletion, give the target its traffic back before the Canary goes (a finalizer). */
  revertOnDeletion: z.boolean().optional(),
  suspend: z.boolean().optional(),
  analysis: Analysis.optional(),
  canaryAnalysis: Analysis.optional(),
});

export type Strategy = 'canary' | 'blue-green' | 'ab';
export type RouterKind = 'smi' | 'gatewayapi' | 'kubernetes';
export type MetricsFlavour = 'linkerd' | 'gatewayapi';

export interface MetricModel {
  name: string;
  intervalMs: number;
  intervalText: string;
  min?: number;
  max?: number;
  query?: string;
  templateRef?: { name: string; namespace: string };
  templateVariables: Record<string, string>;
  compare?: { direction: Direction; confidence: number; minSamples: number };
}

export type WebhookType =
  | 'confirm-rollout'
  | 'pre-rollout'
  | 'rollout'
  | 'confirm-traffic-increase'
  | 'confirm-promotion'
  | 'post-rollout'
  | 'rollback'
  | 'event';

export interface WebhookModel {
  name: string;
  type: WebhookType;
  url: string;
  timeoutMs: number;
  metadata: Record<string, string>;
  muteAlert: boolean;
  retries: number;
}

export interface CanaryModel {
  group: typeof FLAGGER_GROUP | typeof CAPSTAN_GROUP;
  namespace: string;
  name: string;
  target: string;
  autoscaler?: string;
  apex: string;
  port: number;
  portName: string;
  targetPort: number | string;
  hosts: string[];
  gatewayRefs: { name: string; namespace: string }[];
  router: RouterKind;
  metricsFlavour: MetricsFlavour;
  metricsServer?: string;
  progressDeadlineMs: number;
  skipAnalysis: boolean;
  suspend: boolean;
  revertOnDeletion: boolean;
  /** Blue/green mirroring: percent of requests copied to the canary (Gateway API RequestMirror). */
  mirrorPercent?: number;
  sessionAffinity?: { cookieName: string; maxAge: number };
  strategy: Strategy;
  intervalMs: number;
  threshold: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  maxWeight: number;
  /** The weights the canary walks through, last one = max. */
  steps: number[];
  stepWeightPromotion?: number;
  iterations: number;
  match: z.infer<typeof Match>[];
  metrics: MetricModel[];
  webhooks: WebhookModel[];
  alerts: {
    name: string;
    severity: 'info' | 'warn' | 'error';
    provider: { name: string; namespace: string };
  }[];
}

export class CanarySpecError extends Error {
  constructor(
    readonly object: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${object}: ${field}: ${reason}`);
    this.name = 'CanarySpecError';
  }
}

export interface CanaryObject {
  apiVersion?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

/** Parses a Canary object into the model, or throws CanarySpecError naming the object and field. */
export function parseCanary(obj: CanaryObject): CanaryModel {
  const namespace = obj.metadata?.namespace ?? 'default';
  const name = obj.metadata?.name ?? '';
  const where = `Canary ${namespace}/${name}`;
  const result = CanarySpecSchema.safeParse(obj.spec);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CanarySpecError(where, ['spec', ...(issue?.path ?? [])].join('.'), issue?.message ?? 'invalid');
  }
  const spec = result.data;
  const group = (obj.apiVersion ?? '').startsWith(`${CAPSTAN_GROUP}/`) ? CAPSTAN_GROUP : FLAGGER_GROUP;
  const a = spec.analysis ?? spec.canaryAnalysis ?? {};
  const provider = spec.provider ?? 'linkerd';
  const router: RouterKind = provider.startsWith('gatewayapi')
    ? 'gatewayapi'
    : provider === 'kubernetes'
      ? 'kubernetes'
      : 'smi';
  const iterations = a.iterations ?? 0;
  const strategy: Strategy = iterations > 0 ? ((a.match ?? []).length > 0 ? 'ab' : 'blue-green') : 'canary';
  if (router === 'kubernetes' && strategy !== 'blue-green')
    throw new CanarySpecError(
      where,
      'spec.analysis.iterations',
      'provider kubernetes supports blue/green only (set iterations)',
    );
  const maxWeight = a.stepWeights?.length ? (a.stepWeights.at(-1) ?? 100) : (a.maxWeight ?? 100);
  const steps = stepsOf(a.stepWeights, a.stepWeight, maxWeight);
  if (strategy === 'canary' && steps.length === 0)
    throw new CanarySpecError(where, 'spec.analysis.stepWeight', 'set stepWeight, stepWeights or iterations');
  if (a.mirror && (router !== 'gatewayapi' || strategy !== 'blue-green'))
    throw new CanarySpecError(
      where,
      'spec.analysis.mirror',
      'mirroring needs provider gatewayapi and iterations without match (blue/green)',
    );
  if (a.sessionAffinity && (router !== 'gatewayapi' || strategy !== 'canary'))
    throw new CanarySpecError(
      where,
      'spec.analysis.sessionAffinity',
      'session affinity needs provider gatewayapi and a weighted canary (stepWeight)',
    );
  const threshold = a.threshold ?? 1;
  const intervalText = a.interval ?? '60s';
  const intervalMs = parseDuration(intervalText);
  const metrics = (a.metrics ?? []).map((m, i) => metricModel(m, i, namespace, where, intervalText));
  return {
    group,
    namespace,
    name,
    target: spec.targetRef.name,
    ...(spec.autoscalerRef ? { autoscaler: spec.autoscalerRef.name } : {}),
    apex: spec.service.name ?? spec.targetRef.name,
    port: spec.service.port,
    portName: spec.service.portName ?? 'http',
    targetPort: spec.service.targetPort ?? spec.service.port,
    hosts: spec.service.hosts ?? [],
    gatewayRefs: (spec.service.gatewayRefs ?? []).map((g) => ({
      name: g.name,
      namespace: g.namespace ?? namespace,
    })),
    router,
    metricsFlavour: router === 'gatewayapi' ? 'gatewayapi' : 'linkerd',
    ...(spec.metricsServer ? { metricsServer: spec.metricsServer } : {}),
    progressDeadlineMs: (spec.progressDeadlineSeconds ?? 600) * 1000,
    skipAnalysis: spec.skipAnalysis ?? (spec.analysis === undefined && spec.canaryAnalysis === undefined),
    suspend: spec.suspend ?? false,
    revertOnDeletion: spec.revertOnDeletion ?? false,
    ...(a.mirror ? { mirrorPercent: a.mirrorWeight ?? 100 } : {}),
    ...(a.sessionAffinity
      ? {
          sessionAffinity: {
            cookieName: a.sessionAffinity.cookieName,
            maxAge: a.sessionAffinity.maxAge ?? 86_400,
          },
        }
      : {}),
    strategy,
    intervalMs,
    threshold,
    // Flagger counts a check without data as failed; Capstan keeps it apart (Inconclusive) with
    // its own limit, which for a Flagger Canary defaults to the failure threshold so an old
    // manifest still rolls back a canary that gets no traffic.
    inconclusiveLimit: a.inconclusiveLimit ?? threshold,
    consecutiveErrorLimit: a.consecutiveErrorLimit ?? Math.max(threshold, 4),
    maxWeight,
    steps,
    ...(a.stepWeightPromotion ? { stepWeightPromotion: a.stepWeightPromotion } : {}),
    iterations,
    match: a.match ?? [],
    metrics,
    webhooks: (a.webhooks ?? []).map((w) => ({
      name: w.name,
      type: w.type === undefined || w.type === '' ? 'rollout' : w.type,
      url: w.url,
      timeoutMs: parseDuration(w.timeout ?? '10s'),
      metadata: w.metadata ?? {},
      muteAlert: w.muteAlert ?? false,
      retries: w.retries ?? 0,
    })),
    alerts: (a.alerts ?? []).map((al) => ({
      name: al.name,
      severity: al.severity ?? 'info',
      provider: { name: al.providerRef.name, namespace: al.providerRef.namespace ?? namespace },
    })),
  };
}

function stepsOf(
  stepWeights: number[] | undefined,
  stepWeight: number | undefined,
  maxWeight: number,
): number[] {
  if (stepWeights?.length) return stepWeights;
  if (!stepWeight) return [];
  const out: number[] = [];
  for (let w = stepWeight; w < maxWeight; w += stepWeight) out.push(w);
  out.push(maxWeight);
  return out;
}

function metricModel(
  m: z.infer<typeof Metric>,
  index: number,
  namespace: string,
  where: string,
  analysisInterval: string,
): MetricModel {
  const field = `spec.analysis.metrics[${index}]`;
  const builtin = m.name === 'request-success-rate' || m.name === 'request-duration';
  if (!builtin && !m.query && !m.templateRef)
    throw new CanarySpecError(
      where,
      field,
      `metric "${m.name}" is not built in and has neither templateRef nor query`,
    );
  let min = m.thresholdRange?.min;
  let max = m.thresholdRange?.max;
  if (m.threshold !== undefined && min === undefined && max === undefined) {
    if (m.name === 'request-success-rate') min = m.threshold;
    else max = m.threshold;
  }
  const intervalText = m.interval ?? (builtin ? '1m' : analysisInterval);
  const compare = m.compare;
  return {
    name: m.name,
    intervalMs: parseDuration(intervalText),
    intervalText,
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(m.query ? { query: m.query } : {}),
    ...(m.templateRef
      ? { templateRef: { name: m.templateRef.name, namespace: m.templateRef.namespace ?? namespace } }
      : {}),
    templateVariables: m.templateVariables ?? {},
    ...(compare
      ? {
          compare: {
            direction: compare.direction,
            confidence: compare.confidence ?? 0.98,
            minSamples: compare.minSamples ?? 10,
          },
        }
      : {}),
  };
}
